"""Set-based writes: rows written without model instances read back as the ORM would save them,
history included."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from committee.models import AgendaItem, Meeting
from config import sql
from tests.committee.conftest import build_committee, make_meeting
from tests.threads import held_elsewhere

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(secretary) -> Meeting:
    return make_meeting(build_committee(secretary))


def test_rows_take_the_defaults_and_arrive_in_few_statements(meeting, unit, monkeypatch):
    monkeypatch.setattr(sql, "ROWS_A_STATEMENT", 4)
    rows = [
        (meeting.pk, n, "other", f"other:{n}", f"Item {n} — 議題", "", unit.pk if n % 2 else None)
        for n in range(1, 11)
    ]
    columns = ["meeting_id", "position", "kind", "source_key", "title", "summary", "unit_id"]
    before = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        assert sql.insert_rows(AgendaItem, columns, rows) == 10
    # One statement on PostgreSQL (a column an array); on SQLite, ROWS_A_STATEMENT a statement.
    assert len(queries) == (1 if connection.vendor == "postgresql" else 3)
    items = list(AgendaItem.objects.filter(meeting=meeting).order_by("position"))
    assert [(i.position, i.title, i.unit_id) for i in items] == [
        (n, f"Item {n} — 議題", unit.pk if n % 2 else None) for n in range(1, 11)
    ]
    first = items[0]
    assert first.added_after_publication is False and first.removed_at is None  # defaults
    assert before - dt.timedelta(seconds=1) <= first.created_at <= timezone.now()  # auto_now_add


def test_history_rows_copy_what_was_written(meeting):
    sql.insert_rows(
        AgendaItem,
        ["meeting_id", "position", "kind", "source_key", "title"],
        [(meeting.pk, n, "other", f"other:{n}", f"Item {n}") for n in (1, 2)],
    )
    when = timezone.now()
    written = sql.insert_history(
        AgendaItem.objects.filter(meeting=meeting), when=when, user_id=None
    )
    assert sorted(written) == sorted(meeting.items.values_list("pk", flat=True))
    history = AgendaItem.history.filter(meeting=meeting).order_by("position")
    assert [(h.title, h.history_type, h.history_date) for h in history] == [
        ("Item 1", "+", when),
        ("Item 2", "+", when),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_run_alone_is_alone_until_it_ends():
    """The second run of a kind is told at once that another is under way (another connection,
    another open file); when the first ends, the next may run."""
    with held_elsewhere(0x52430001), sql.run_alone(0x52430001) as alone:
        assert alone is False
    with sql.run_alone(0x52430001) as alone:
        assert alone is True


@pytest.mark.django_db(transaction=True)
def test_a_run_that_fails_lets_the_next_one_run():
    with pytest.raises(RuntimeError), sql.run_alone(0x52430002) as alone:
        assert alone
        raise RuntimeError("the run broke")
    with held_elsewhere(0x52430002):  # taken again, from elsewhere: it was let go
        pass


def _history_rows(action) -> list[dict]:
    history = type(action).history.model
    skip = {"history_id", "history_date"}
    return [
        {k: v for k, v in row.items() if k not in skip}
        for row in history.objects.filter(id=action.pk).order_by("history_id").values()
    ]


def test_an_update_by_hand_leaves_what_save_and_simple_history_leave(unit, ciso, bu_member):
    from actions.models import Action
    from tests.actions.conftest import task

    by_orm, by_hand = task(unit, ciso), task(unit, ciso)
    for action in (by_orm, by_hand):
        action.percent_done, action.assignee, action.version = 40, bu_member, action.version + 1
    by_orm._history_user = bu_member  # type: ignore[attr-defined]  # as simple-history's middleware sets it
    before = timezone.now()
    by_orm.save(update_fields=["percent_done", "assignee", "version", "updated_at"])
    with CaptureQueriesContext(connection) as queries:
        sql.update_with_history(
            by_hand, ["percent_done", "assignee", "version", "updated_at"], user_id=bu_member.pk
        )
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)
    assert by_hand.updated_at >= before  # auto_now, as save() sets it
    keep = ["percent_done", "assignee_id", "version", "status", "title"]
    assert (
        Action.objects.filter(pk=by_hand.pk).values(*keep).get()
        == Action.objects.filter(pk=by_orm.pk).values(*keep).get()
    )

    def alike(rows: list[dict]) -> list[dict]:
        return [
            {k: v for k, v in r.items() if k not in {"id", "reference", "updated_at", "created_at"}}
            for r in rows
        ]

    orm_rows, hand_rows = _history_rows(by_orm), _history_rows(by_hand)
    assert alike(hand_rows) == alike(orm_rows)
    assert hand_rows[-1]["history_type"] == "~"
    assert hand_rows[-1]["history_user_id"] == bu_member.pk
    assert hand_rows[-1]["updated_at"] == by_hand.updated_at


def test_an_instance_inserted_by_hand_reads_back_as_saved(unit, ciso, bu_member):
    from actions.models import ActionUpdate
    from tests.actions.conftest import task

    action = task(unit, ciso)
    made = sql.insert_instance(
        ActionUpdate(action=action, author=bu_member, note="Patched — 修正済み", percent_done=55)
    )
    assert made.pk is not None and not made._state.adding
    read = ActionUpdate.objects.get(pk=made.pk)
    assert (read.action_id, read.author_id, read.note, read.percent_done, read.new_status) == (
        action.pk,
        bu_member.pk,
        "Patched — 修正済み",
        55,
        "",
    )
    assert read.at == made.at
    again = sql.insert_instance(ActionUpdate(action=action, author=bu_member, note="again"))
    assert again.pk != made.pk
