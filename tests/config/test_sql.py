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
