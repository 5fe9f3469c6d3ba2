"""P1, the action list for a unit member against a bare .values() view; P1b, the same for the
CISO, unfiltered; P2, unit scoping's cost."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlparse

from django.db import connection
from django.db.models import Count
from django.test import Client
from knox.models import AuthToken

from accounts.models import Role, User
from actions.models import Action
from bench.harness import Result, count_queries, ms, sequential_scans, side_by_side

STATUS = Action.Status.IN_PROGRESS


def member_of_busiest_unit() -> User:
    """A plain member (not the head) of the unit with the most actions in progress."""
    busiest = (
        Action.objects.filter(status=STATUS, unit__code__startswith="LD")
        .values("unit")
        .order_by()
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    assert busiest is not None, "no generated actions: run generate_load_data first"
    return (
        User.objects.filter(memberships__unit=busiest["unit"], groups__name=Role.BU_MEMBER)
        .exclude(headed_units__isnull=False)
        .order_by("pk")[0]
    )


def sorted_whole(statements: list[str]) -> list[str]:
    """The sorts in these SELECTs' plans (EXPLAIN on PostgreSQL), each as what it sorts by: a
    default order no index serves reads and sorts every row before the first page."""
    found: list[str] = []

    def walk(plan: dict[str, Any]) -> None:
        if plan["Node Type"] in {"Sort", "Incremental Sort"}:
            found.append(", ".join(plan["Sort Key"]))
        for child in plan.get("Plans", []):
            walk(child)

    with connection.cursor() as cursor:
        for sql in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
                walk(cursor.fetchone()[0][0]["Plan"])
    return found


def client_for(user: User) -> Client:
    """A client that signs in as an integration does: with an API token."""
    _instance, token = AuthToken.objects.create(user=user, expiry=dt.timedelta(days=1))
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def _get(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return response.json()


def run(runs: int) -> list[Result]:
    member = member_of_busiest_unit()
    unit = member.memberships.get().unit
    auditor = User.objects.get(username="ld-auditor")
    ours, theirs, oversight = client_for(member), client_for(auditor), client_for(auditor)
    first = _get(ours, f"/api/v1/actions/?status={STATUS}")
    assert first["next"], "the unit needs more than one page of actions"
    nxt = urlparse(first["next"])
    page_two = f"{nxt.path}?{nxt.query}"
    ours_rows = _get(ours, page_two)["results"]
    last = first["results"][-1]
    bare_url = f"/bench/actions/?status={STATUS}&after={last['due_on']},{last['id']}"
    bare_rows = _get(ours, bare_url)["results"]
    same = [r["id"] for r in ours_rows] == [r["id"] for r in bare_rows]

    mine, bare = side_by_side(lambda: ours.get(page_two), lambda: ours.get(bare_url), runs=runs)
    queries, statements = count_queries(lambda: ours.get(page_two))
    scans = sequential_scans(statements)
    rows = Action.objects.count()
    p1 = Result(
        "P1",
        f"action list, cursor page 2 of 50, {unit.code} member ({rows:,} actions)",
        ms(mine),
        ms(bare) + " (bare .values() view)",
        mine / bare,
        "<= 2.0",
        mine / bare <= 2.0 and not scans,
        [
            f"{queries} queries a request",
            "same rows as the bare view" if same else "ROWS DIFFER from the bare view",
            f"sequential scans on big tables: {', '.join(scans) or 'none'}",
        ],
        sound=same,
    )

    # P2: the same rows through the same endpoint, for someone who reads every unit's actions
    # (no scoping at all) and asks for this unit by filter.
    first_all = _get(oversight, f"/api/v1/actions/?status={STATUS}&unit={unit.code}")
    nxt_all = urlparse(first_all["next"])
    unscoped = f"{nxt_all.path}?{nxt_all.query}"
    same_all = [r["id"] for r in _get(theirs, unscoped)["results"]] == [r["id"] for r in ours_rows]
    scoped, plain = side_by_side(
        lambda: ours.get(page_two), lambda: theirs.get(unscoped), runs=runs
    )
    scoped_queries, _ = count_queries(lambda: ours.get(page_two))
    plain_queries, _ = count_queries(lambda: theirs.get(unscoped))
    p2 = Result(
        "P2",
        "the same page with unit scoping (guardian grants) vs without (oversight, unit filter)",
        ms(scoped),
        ms(plain),
        scoped / plain,
        "<= 1.3",
        scoped / plain <= 1.3,
        [
            f"queries {scoped_queries} scoped, {plain_queries} unscoped",
            "same rows" if same_all else "ROWS DIFFER",
        ],
        sound=same_all,
    )
    return [p1, oversight_list(runs), p2]


def oversight_list(runs: int) -> Result:
    """P1b: page 2 of the whole action list, no filter and the default order, as the CISO reads
    it (the issue's slowest read); against the same rows read with .values(), keyset-paged."""
    # The CISO, not the auditor: the issue measured the CISO, and the two read alike (both
    # read everything, asked in the same one statement), only by office rather than by role.
    ciso = client_for(User.objects.get(username="ld-ciso"))
    first = _get(ciso, "/api/v1/actions/")
    assert first["next"], "more than one page of actions"
    nxt = urlparse(first["next"])
    page_two = f"{nxt.path}?{nxt.query}"
    ours_rows = _get(ciso, page_two)["results"]
    last = first["results"][-1]
    bare_url = f"/bench/actions/all/?after={last['due_on']},{last['id']}"
    bare_rows = _get(ciso, bare_url)["results"]
    same = len(ours_rows) == 50 and [r["id"] for r in ours_rows] == [r["id"] for r in bare_rows]
    mine, bare = side_by_side(lambda: ciso.get(page_two), lambda: ciso.get(bare_url), runs=runs)
    queries, statements = count_queries(lambda: ciso.get(page_two))
    _, bare_statements = count_queries(lambda: ciso.get(bare_url))
    scans = sequential_scans(statements)
    bare_scans = sequential_scans(bare_statements)
    sorts = sorted_whole(statements)
    return Result(
        "P1b",
        f"action list, cursor page 2 of 50, the CISO, unfiltered ({Action.objects.count():,})",
        ms(mine),
        ms(bare) + " (bare .values() view)",
        mine / bare,
        "<= 2.0",
        mine / bare <= 2.0 and not scans and not sorts,
        [
            f"{queries} queries a request",
            "same rows as the bare view" if same else "ROWS DIFFER from the bare view",
            f"sequential scans on big tables: {', '.join(scans) or 'none'}"
            f" (bare view: {', '.join(bare_scans) or 'none'})",
            f"sorts: {'; '.join(sorts) or 'none'}",
        ],
        sound=same,
    )
