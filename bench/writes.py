"""P3, a status update with If-Match, history and audit against a bare view writing the same rows;
P6, a directive fanned out to every operational system against one raw INSERT ... SELECT."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import OfficeCode, User
from actions import services
from actions.models import Action, ActionUpdate
from audit.models import AuditEvent
from bench.harness import Result, alternate, count_queries, ms, side_by_side
from bench.lists import client_for, member_of_busiest_unit
from systems.models import System


class _RolledBack(Exception):
    pass


def _written(action: Action) -> dict[str, int]:
    """The rows an update of this action leaves: its update rows, history rows, audit events,
    and its version."""
    history = Action.history.model  # simple-history adds it
    return {
        "updates": ActionUpdate.objects.filter(action=action).count(),
        "history": history.objects.filter(id=action.pk).count(),
        "audit": AuditEvent.objects.filter(
            verb="action.updated", target_type="actions.action", target_id=str(action.pk)
        ).count(),
        "version": Action.objects.values_list("version", flat=True).get(pk=action.pk),
    }


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
    state: dict[str, Any] = {"etag": services.etag(action), "n": 0, "ours": 0, "bare": 0}

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
        state["bare"] += 1
        response = client.post(
            f"/bench/actions/{other.pk}/update-rows/",
            {"percent_done": state["n"] % 100, "note": "progress"},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content[:300]

    before = {"ours": _written(action), "bare": _written(other)}
    mine, theirs = side_by_side(ours, bare, runs=runs)
    queries, _statements = count_queries(ours)
    after = {"ours": _written(action), "bare": _written(other)}
    # Each side's request wrote one of each row: both sides' rows are compared, not only ours.
    wrote = {
        side: {kind: after[side][kind] - before[side][kind] for kind in after[side]}
        for side in after
    }
    same = all(
        all(count == state[side] for count in wrote[side].values()) for side in ("ours", "bare")
    )
    ratio = theirs / mine  # throughput: ours over bare
    return [
        Result(
            "P3",
            "status update (If-Match, update row, history, audit event) vs a bare view writing "
            "the same rows by hand-written SQL",
            f"{1 / mine:.0f}/s ({ms(mine)})",
            f"{1 / theirs:.0f}/s ({ms(theirs)})",
            ratio,
            ">= 0.5; <= 10 statements an update",
            ratio >= 0.5 and queries <= 10,
            [
                f"{queries} statements an update",
                f"rows written a request, ours: {wrote['ours']} for {state['ours']}, "
                f"bare: {wrote['bare']} for {state['bare']}",
                "audit events unsealed on both sides (the sealer chains them after commit)",
            ],
            sound=same,
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

    def timed(call: Any) -> Any:
        def run() -> float:
            started = time.perf_counter()
            call()
            return time.perf_counter() - started

        return run

    ours()
    bare()
    # The raw insert alone varies by a factor of two on a shared machine from one moment to the
    # next, so each turn's pair is divided and the ratio is the median of those.
    my_times, their_times = alternate(timed(ours), timed(bare), runs=runs)
    mine, theirs = statistics.median(my_times), statistics.median(their_times)
    queries, _statements = count_queries(ours)
    same = counted.get("actions") == counted.get("bare") == systems
    ratio = statistics.median(m / t for m, t in zip(my_times, their_times, strict=True))
    return [
        Result(
            "P6",
            f"directive fanned out to {systems:,} systems (actions, history, grants, audit)",
            ms(mine),
            ms(theirs) + " (raw INSERT ... SELECT)",
            ratio,
            "<= 2.5",
            ratio <= 2.5,
            [
                f"{queries} queries",
                f"{counted.get('actions')} actions each" if same else f"COUNTS DIFFER {counted}",
                f"ratio: the median of {runs} alternating pairs' ratios; each run rolled back",
            ],
            sound=same,
        )
    ]
