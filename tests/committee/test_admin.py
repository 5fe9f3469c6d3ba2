"""Admin: beat schedules visible and editable, committee acts go through the services, and
decisions cannot be changed or deleted there."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django_celery_beat.models import PeriodicTask

from committee.models import Decision, Meeting
from tests.committee.conftest import mark_present
from tests.factories import UserFactory

BETWEEN_MEETINGS = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(login_as):
    return login_as(UserFactory.create(username="root", is_superuser=True, is_staff=True))


def test_the_committee_schedules_are_in_the_beat_admin(admin_client):
    tasks = dict(PeriodicTask.objects.values_list("name", "task"))
    assert tasks["Schedule committee meetings"] == "committee.tasks.schedule_meetings"
    assert tasks["Prepare and publish agendas"] == "committee.tasks.prepare_agendas"
    page = admin_client.get("/admin/django_celery_beat/periodictask/")
    assert page.status_code == 200
    assert b"Schedule committee meetings" in page.content
    task = PeriodicTask.objects.get(name="Prepare and publish agendas")
    edit = admin_client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/")
    assert edit.status_code == 200 and b'name="enabled"' in edit.content


def test_admin_actions_schedule_and_publish_through_the_services(admin_client, committee):
    # Three months ahead hold three second Tuesdays, except from a second Tuesday's meeting to
    # midnight (the next three months then end the day before the fourth): a day between them.
    with time_machine.travel(BETWEEN_MEETINGS, tick=True):
        response = admin_client.post(
            "/admin/committee/committee/",
            {"action": "schedule_now", "_selected_action": [committee.pk]},
            follow=True,
        )
        assert b"3 meeting(s) scheduled." in response.content
        meeting = committee.meetings.order_by("starts_at").first()
        admin_client.post(
            "/admin/committee/meeting/",
            {"action": "publish", "_selected_action": [meeting.pk]},
            follow=True,
        )
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PUBLISHED
    assert meeting.attendance.count() == 3


def test_decisions_are_read_only_in_the_admin(admin_client, quorate, secretary, chair):
    from committee import services

    mark_present(quorate, secretary, chair)
    decision = services.record_decision(
        actor=secretary, meeting=quorate, item=None, outcome="noted", text="Noted."
    )
    url = f"/admin/committee/decision/{decision.pk}/"
    assert admin_client.get(url + "change/").status_code == 200  # viewable
    admin_client.post(url + "change/", {"text": "Rewritten", "outcome": "approved"})
    assert admin_client.post(url + "delete/", {"post": "yes"}).status_code == 403
    decision.refresh_from_db()
    assert (decision.text, Decision.objects.count()) == ("Noted.", 1)
