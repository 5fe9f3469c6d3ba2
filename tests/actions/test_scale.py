"""What the scale work (issue 8) changed in actions: the list read with .values(), cursor pages
that hold their order among ties, the set-based chase and fan-out, and their query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions import chasing, services
from actions.api import ActionOut
from actions.models import Action, ActionGroupObjectPermission, ChaseNotice, Notification
from audit.models import ReferenceCounter
from tests.actions.conftest import task
from tests.factories import UserFactory
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db


def test_a_list_row_is_what_the_record_serializer_says(login_as, unit, bu_member, ciso):
    plain = task(unit, ciso, title="Plain")
    assigned = task(unit, ciso, title="Assigned", assignee=bu_member, system=register(unit, "crm"))
    late = task(unit, ciso, title="Late", assignee=bu_member)
    Action.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - timedelta(days=3))
    for act in ("start", "submit"):
        services.transition_action(actor=bu_member, action=assigned, act=act)
    rows = login_as(bu_member).get("/api/v1/actions/?page_size=10").json()["results"]
    ordered = Action.objects.filter(pk__in=[plain.pk, assigned.pk, late.pk]).order_by(
        "due_on", "pk"
    )
    expected = [ActionOut(action).data for action in ordered]
    assert [dict(row) for row in rows] == [dict(e) for e in expected]
    assert {row["title"]: row["overdue"] for row in rows} == {
        "Plain": False,
        "Assigned": False,
        "Late": True,
    }


def test_cursor_pages_neither_repeat_nor_skip_rows_that_tie(login_as, unit, bu_member, ciso):
    made = {task(unit, ciso, title=f"t{n}").pk for n in range(23)}  # all due the same day
    client = login_as(bu_member)
    seen: list[int] = []
    url = "/api/v1/actions/?page_size=5"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert len(seen) == len(made)
    assert set(seen) == made


def _overdue(unit, ciso, count: int, days: int = 8, **fields) -> None:
    for n in range(count):
        action = task(unit, ciso, title=f"late {n}", **fields)
        Action.objects.filter(pk=action.pk).update(
            due_on=timezone.localdate() - timedelta(days=days)
        )


def _chase_queries() -> int:
    with CaptureQueriesContext(connection) as ctx:
        chasing.chase_actions()
    return len(ctx.captured_queries)


def test_the_chase_runs_the_same_queries_for_thirty_actions_as_for_three(
    unit, other_unit, ciso, bu_member, bu_head, chair, secretary
):
    _overdue(unit, ciso, 3, days=31, assignee=bu_member)
    few = _chase_queries()
    _overdue(unit, ciso, 30, days=31, assignee=bu_member)
    _overdue(other_unit, ciso, 30, days=31)
    assert _chase_queries() == few


def test_unassigned_late_work_goes_to_the_unit_head_not_to_every_member(
    unit, ciso, bu_member, bu_head
):
    colleague = UserFactory.create(username="colleague")
    from accounts.services import add_member

    add_member(actor=None, unit=unit, user=colleague)
    _overdue(unit, ciso, 2, days=2)
    chasing.chase_actions()
    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {"bu_head"}


def test_fan_out_writes_history_and_grants_and_numbers_references_past_9999(
    unit, other_unit, ciso, bu_member
):
    for n in range(3):
        register(unit if n < 2 else other_unit, f"srv-{n}")
    year = timezone.localdate().year
    ReferenceCounter.objects.update_or_create(prefix="ACT", year=year, defaults={"last": 9998})
    directive = services.draft_directive(
        actor=ciso,
        title="Patch",
        body="Now.",
        deadline=timezone.localdate() + timedelta(days=9),
        criteria={"status": ["operational"]},
    )
    services.issue_directive(actor=ciso, directive=directive)
    actions = list(directive.actions.order_by("pk").select_related("system"))
    assert [a.reference for a in actions] == [
        f"ACT-{year}-9999",
        f"ACT-{year}-10000",
        f"ACT-{year}-10001",
    ]
    assert [a.title for a in actions] == [f"Patch — srv-{n}" for n in range(3)]
    assert all(a.history.filter(history_type="+", history_user=ciso).count() == 1 for a in actions)
    grants = ActionGroupObjectPermission.objects.filter(content_object__in=actions)
    assert grants.count() == 6
    assert {(g.content_object_id, g.group_id) for g in grants} == {
        (a.pk, a.unit.group_id) for a in actions
    }
    assert ReferenceCounter.objects.get(prefix="ACT", year=year).last == 10001


def test_scoping_reads_the_grants_not_only_the_unit(unit, ciso, bu_member):
    from guardian.shortcuts import remove_perm

    from actions import policy

    kept, withdrawn = task(unit, ciso, title="kept"), task(unit, ciso, title="withdrawn")
    remove_perm("actions.view_action", unit.group, withdrawn)
    assert list(policy.visible_actions(bu_member)) == [kept]


def indexed_columns(model) -> set[tuple[str, ...]]:
    """The column lists the table's indexes cover (unique ones included, the primary key not)."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {
        tuple(info["columns"])
        for info in found.values()
        if (info["index"] or info["unique"]) and not info["primary_key"] and info["columns"]
    }


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            Action,
            {
                ("reference",),
                ("unit_id", "status", "due_on"),
                ("status", "due_on"),
                ("assignee_id", "status"),
                ("due_on", "id"),  # unfinished work, partial
                # What waits on an office's verification, partial: the dashboard's panel
                ("domain", "submitted_at", "id", "submitted_by_id"),
                ("system_id",),  # the seldom-set links, each partial
                ("origin_incident_id",),
                ("origin_measure_id",),
                ("directive_id",),
                ("origin_decision_id",),
                ("origin_project_id",),  # a project page lists the work it created
            },
        ),
        (Action.history.model, {("id",), ("history_date",), ("history_user_id",)}),
        (Notification, {("recipient_id", "created_at", "id"),  # the inbox, newest first
                        ("recipient_id", "action_id", "stage"), ("digest_id",)}),
        (ChaseNotice, {("action_id", "stage"), ("action_id",)}),  # the second: committee, partial
        (ActionGroupObjectPermission, {("group_id", "permission_id", "content_object_id"),
                                       ("content_object_id",)}),
    ],
)  # fmt: skip
def test_the_busiest_tables_carry_only_the_indexes_something_reads(model, expected):
    """Every index is written by every insert, and by every update that cannot stay on its page:
    one added here should come with the query that reads it."""
    assert indexed_columns(model) == expected
