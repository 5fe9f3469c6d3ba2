"""P3, a status update with If-Match, history and audit against a bare UPDATE; P6, a directive
fanned out to every operational system against one raw INSERT ... SELECT."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import OfficeCode, User
from actions import services
from actions.models import Action, ActionUpdate
from bench.harness import Result, count_queries, ms, side_by_side
from bench.lists import client_for, member_of_busiest_unit
from systems.models import System


class _RolledBack(Exception):
    pass


def run_update(runs: int) -> list[Result]:
    member = member_of_busiest_unit()
    unit = member.memberships.get().unit
    action = Action.objects.filter(unit=unit, status=Action.Status.IN_PROGRESS).order_by("pk")[0]
    other = (
        Action.objects.filter(unit=unit, status=Action.Status.IN_PROGRESS)
        .exclude(pk=action.pk)
        .order_by("pk")[0]
    )
    client = client_for(member)
    state: dict[str, Any] = {"etag": services.etag(action), "n": 0, "ours": 0}

    def ours() -> None:
        state["n"] += 1
        state["ours"] += 1
        response = client.post(
            f"/api/v1/actions/{action.pk}/updates/",
            {"percent_done": state["n"] % 100, "note": "progress"},
            content_type="application/json",
            HTTP_IF_MATCH=state["etag"],
        )
        assert response.status_code == 201, response.content[:300]
        state["etag"] = response.headers["ETag"]

    def bare() -> None:
        state["n"] += 1
        response = client.post(
            f"/bench/actions/{other.pk}/update/", {"percent_done": state["n"] % 100}
        )
        assert response.status_code == 200, response.content[:300]

    updates_before = ActionUpdate.objects.filter(action=action).count()
    mine, theirs = side_by_side(ours, bare, runs=runs)
    queries, _statements = count_queries(ours)
    written = ActionUpdate.objects.filter(action=action).count() - updates_before
    ratio = theirs / mine  # throughput: ours over bare
    return [
        Result(
            "P3",
            "status update (If-Match, update row, history, audit event) vs a bare UPDATE view",
            f"{1 / mine:.0f}/s ({ms(mine)})",
            f"{1 / theirs:.0f}/s ({ms(theirs)})",
            ratio,
            ">= 0.5",
            ratio >= 0.5,
            [
                f"{queries} queries an update",
                f"{written} updates written for {state['ours']} requests",
            ],
            sound=written == state["ours"],
        )
    ]


def run_fanout(runs: int) -> list[Result]:
    ciso = User.objects.get(offices__code=OfficeCode.CISO)
    criteria = {"status": ["operational"]}
    systems = System.objects.filter(status=System.Status.OPERATIONAL).count()
    deadline = timezone.localdate() + dt.timedelta(days=30)
    directive = services.draft_directive(
        actor=ciso,
        title="Rotate every service credential",
        body="Benchmark.",
        deadline=deadline,
        criteria=criteria,
    )
    counted: dict[str, Any] = {}

    def ours() -> None:
        try:
            with transaction.atomic():
                issued = services.issue_directive(actor=ciso, directive=directive)
                counted["actions"] = issued.actions.count()
                raise _RolledBack
        except _RolledBack:
            pass

    def bare() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(
                        """
                        INSERT INTO actions_action (reference, title, description, domain,
                            unit_id, due_on, priority, status, system_id, issued_by_id,
                            issued_office, cancel_reason, percent_done, escalation_level,
                            version, created_at, updated_at)
                        SELECT 'BENCH-' || s.id, 'Rotate every service credential', '',
                            'security', s.unit_id, %s, 'normal', 'open', s.id, %s, 'CISO', '',
                            0, 0, 1, now(), now()
                        FROM systems_system s WHERE s.status = 'operational'
                        """,
                        [deadline, ciso.pk],
                    )
                    counted["bare"] = cursor.rowcount
                raise _RolledBack
        except _RolledBack:
            pass

    mine, theirs = side_by_side(ours, bare, runs=runs, warmup=1)
    started = time.perf_counter()
    queries, _statements = count_queries(ours)
    del started
    same = counted.get("actions") == counted.get("bare") == systems
    ratio = mine / theirs
    return [
        Result(
            "P6",
            f"directive fanned out to {systems:,} systems (actions, history, grants, audit)",
            ms(mine),
            ms(theirs) + " (raw INSERT ... SELECT)",
            ratio,
            "<= 3.0",
            ratio <= 3.0,
            [
                f"{queries} queries",
                f"{counted.get('actions')} actions each" if same else f"COUNTS DIFFER {counted}",
                "each run rolled back",
            ],
            sound=same,
        )
    ]
