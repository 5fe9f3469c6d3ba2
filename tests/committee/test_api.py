"""The committee API: who reads which agenda items, who runs and decides, idempotent decisions,
guarded minutes, and constant queries."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from actions.models import Action
from committee import services
from committee.models import Decision, Meeting, Minutes
from tests.cases.conftest import report
from tests.committee.conftest import begin, make_meeting, mark_present
from tests.unchanged import unchanged

pytestmark = pytest.mark.django_db


def post(client, url, data=None, **headers):
    return client.post(url, json.dumps(data or {}), content_type="application/json", **headers)


@pytest.fixture
def agenda(committee, meeting, unit, other_unit, bu_member, other_bu_member, secretary):
    """A draft agenda with one item of each unit and one for the committee only."""
    report(unit, bu_member, title="PUBSEC breach", severity="critical")
    report(other_unit, other_bu_member, title="CLOUD breach", severity="high")
    services.assemble_agenda(actor=secretary, meeting=meeting)
    services.add_agenda_item(actor=secretary, meeting=meeting, title="SOC budget")
    return meeting


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()]


def test_members_read_the_whole_agenda_and_units_only_their_own(
    agenda, login_as, ciso, auditor, bu_member, other_bu_member, cfo
):
    url = f"/api/v1/meetings/{agenda.pk}/agenda/"
    whole = ["INC-2026-0001 PUBSEC breach", "INC-2026-0002 CLOUD breach", "SOC budget"]
    assert [t[4:] for t in titles(login_as(ciso).get(url))] == [w[4:] for w in whole]
    assert len(titles(login_as(auditor).get(url))) == 3
    assert [t.endswith("PUBSEC breach") for t in titles(login_as(bu_member).get(url))] == [True]
    assert [t.endswith("CLOUD breach") for t in titles(login_as(other_bu_member).get(url))] == [
        True
    ]


def test_anonymous_reads_nothing(agenda, client):
    for url in (
        "/api/v1/committees/",
        "/api/v1/meetings/",
        f"/api/v1/meetings/{agenda.pk}/agenda/",
    ):
        assert client.get(url, HTTP_ACCEPT="application/json").status_code in {401, 403}


def test_only_the_secretariat_or_the_chair_edits_the_agenda(
    agenda, login_as, secretary, ciso, chair, bu_member
):
    url = f"/api/v1/meetings/{agenda.pk}/agenda/"
    for person in (ciso, bu_member):
        assert post(login_as(person), url, {"title": "Mine"}).status_code == 403
    assert post(login_as(chair), url, {"title": "Chair's own"}).status_code == 201
    response = post(login_as(secretary), url, {"title": "Vendor audit", "unit": "PUBSEC"})
    assert response.status_code == 201, response.content
    assert response.json()["unit"] == "PUBSEC"
    assert post(login_as(secretary), url, {"title": "x", "status": "done"}).status_code == 400


def test_an_item_a_unit_cannot_see_is_a_404(agenda, login_as, bu_member, secretary):
    cloud_item = agenda.items.get(title__endswith="CLOUD breach")
    client = login_as(bu_member)
    url = f"/api/v1/meetings/{agenda.pk}/agenda/{cloud_item.pk}/remove/"
    assert post(client, url).status_code == 404
    own = agenda.items.get(title__endswith="PUBSEC breach")
    url = f"/api/v1/meetings/{agenda.pk}/agenda/{own.pk}/remove/"
    assert post(client, url).status_code == 403  # visible, but not theirs to change
    assert post(login_as(secretary), url, {"reason": "Handled by CISO"}).status_code == 200


def test_reorder_and_publish_through_the_api(agenda, login_as, secretary, ciso):
    ids = list(agenda.items.order_by("-position").values_list("pk", flat=True))
    client = login_as(secretary)
    response = post(client, f"/api/v1/meetings/{agenda.pk}/agenda/reorder/", {"order": ids})
    assert [item["id"] for item in response.json()] == ids
    assert post(login_as(ciso), f"/api/v1/meetings/{agenda.pk}/publish/").status_code == 403
    response = post(login_as(secretary), f"/api/v1/meetings/{agenda.pk}/publish/")
    assert response.status_code == 200 and response.json()["status"] == "published"
    assert response.json()["chair"] == "chair"
    again = post(login_as(secretary), f"/api/v1/meetings/{agenda.pk}/publish/")
    assert again.status_code == 400  # already published


def test_attendance_is_the_secretariats_to_record_and_the_committees_to_read(
    committee, published, login_as, secretary, chair, bu_member, ciso
):
    url = f"/api/v1/meetings/{published.pk}/attendance/"
    assert login_as(bu_member).get(url).status_code == 404
    assert post(login_as(ciso), url, {"person": "chair", "status": "present"}).status_code == 403
    early = post(login_as(secretary), url, {"person": "ciso", "status": "present"})
    assert early.status_code == 400 and "not begun" in early.json()["status"][0]
    begin(published)
    client = login_as(secretary)
    for person in ("chair", "ciso"):
        response = post(client, url, {"person": person, "status": "present"})
        assert response.status_code == 200, response.content
    roster = login_as(ciso).get(url).json()
    assert roster["quorum"]["met"] is True
    assert roster["quorum"]["explanation"] == "2 of 3 voting members present, 2 needed."
    assert {row["person"]: row["status"] for row in roster["attendance"]} == {
        "chair": "present",
        "ciso": "present",
        "cqo": "expected",
    }


def decision_body(**fields):
    return {"outcome": "approved", "text": "Inventory internet-facing systems.", **fields}


def test_recording_a_decision_honours_idempotency_key(
    committee, quorate, login_as, secretary, unit
):
    url = f"/api/v1/meetings/{quorate.pk}/decisions/"
    body = decision_body(
        effect="create_actions",
        actions=[{"unit": unit.code, "title": "Inventory", "due_on": "2099-01-31"}],
    )
    client = login_as(secretary)
    first = post(client, url, body, HTTP_IDEMPOTENCY_KEY="dec-1")
    assert first.status_code == 201, first.content
    again = post(client, url, body, HTTP_IDEMPOTENCY_KEY="dec-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = post(client, url, {**body, "text": "Something else"}, HTTP_IDEMPOTENCY_KEY="dec-1")
    assert other.status_code == 422
    assert Decision.objects.count() == 1 and Action.objects.count() == 1
    assert first.json()["actions"] == [Action.objects.get().reference]


def test_a_decision_without_quorum_is_a_409_and_bad_input_a_400(
    committee, published, login_as, secretary, chair
):
    url = f"/api/v1/meetings/{published.pk}/decisions/"
    client = login_as(secretary)
    early = post(client, url, decision_body())
    assert early.status_code == 400 and "decisions are recorded from then" in early.content.decode()
    begin(published)
    response = post(client, url, decision_body())
    assert response.status_code == 409 and response.json()["code"] == "no_quorum"
    ciso = published.attendance.get(office="CISO").person
    mark_present(published, secretary, chair, ciso)
    bad = post(client, url, {"outcome": "maybe", "text": ""})
    assert bad.status_code == 400
    assert set(bad.json()) >= {"outcome", "text"}
    wrong_item = post(client, url, decision_body(item=999999))
    assert wrong_item.status_code == 404
    assert not Decision.objects.exists()


def test_units_read_only_the_decisions_on_their_own_items(
    agenda, login_as, secretary, chair, ciso, bu_member, other_bu_member
):
    services.publish_agenda(actor=secretary, meeting=agenda)
    mark_present(agenda, secretary, chair, ciso)
    for item in agenda.items.all():
        services.record_decision(
            actor=secretary, meeting=agenda, item=item, outcome="noted", text=f"On {item.title}"
        )
    url = f"/api/v1/meetings/{agenda.pk}/decisions/"
    assert len(login_as(ciso).get(url).json()) == 3
    mine = login_as(bu_member).get(url).json()
    assert [d["text"] for d in mine] == ["On INC-2026-0001 PUBSEC breach"]


def test_minutes_guarded_by_if_match_approved_by_the_chair_then_locked(
    committee, quorate, login_as, secretary, chair, bu_member
):
    services.hold_meeting(actor=secretary, meeting=quorate)
    url = f"/api/v1/meetings/{quorate.pk}/minutes/"
    client = login_as(secretary)
    created = client.put(url, json.dumps({"body": "Draft 1"}), content_type="application/json")
    assert created.status_code == 200, created.content
    etag = created.headers["ETag"]
    body = json.dumps({"body": "Draft 2"})
    minutes = Minutes.objects.get(meeting=quorate)
    with unchanged(minutes, quorate):
        assert client.put(url, body, content_type="application/json").status_code == 428
    ok = client.put(url, body, content_type="application/json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200
    with unchanged(minutes, quorate):
        stale = client.put(url, body, content_type="application/json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert login_as(bu_member).get(url).status_code == 404
    current = ok.headers["ETag"]
    as_secretary = login_as(secretary)  # signing in is audited: before the blocks
    with unchanged(minutes, quorate):
        assert post(as_secretary, url + "approve/", HTTP_IF_MATCH=current).status_code == 403
    as_chair = login_as(chair)
    with unchanged(minutes, quorate):
        assert post(as_chair, url + "approve/").status_code == 428
        assert post(as_chair, url + "approve/", HTTP_IF_MATCH=etag).status_code == 412
    approved = post(login_as(chair), url + "approve/", HTTP_IF_MATCH=current)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    as_secretary = login_as(secretary)
    with unchanged(minutes, quorate):
        locked = as_secretary.put(
            url, body, content_type="application/json", HTTP_IF_MATCH=ok.headers["ETag"]
        )
    assert locked.status_code == 409 and locked.json()["code"] == "locked"
    fix = post(login_as(secretary), url + "corrections/", {"text": "Typo in item 2."})
    assert fix.status_code == 201
    assert [c["text"] for c in fix.json()["corrections"]] == ["Typo in item 2."]


def test_cadence_exceptions_through_the_api(committee, login_as, secretary, ciso):
    url = f"/api/v1/committees/{committee.pk}/exceptions/"
    body = {"occurrence_date": "2027-01-12", "kind": "skip", "reason": "Offsite"}
    assert post(login_as(ciso), url, body).status_code == 403
    assert post(login_as(secretary), url, body).status_code == 201
    assert post(login_as(secretary), url, body).status_code == 400  # once per date
    move = {"occurrence_date": "2027-02-09", "kind": "move", "reason": "Abroad"}
    assert "moved_to" in post(login_as(secretary), url, move).json()


@pytest.mark.parametrize("path", ["meetings", "committees"])
def test_lists_run_a_constant_number_of_queries(path, committee, login_as, ciso):
    client = login_as(ciso)
    counts = []
    for total in (3, 30):
        while committee.meetings.count() < total:
            make_meeting(committee, days=committee.meetings.count() + 1)
        client.get(f"/api/v1/{path}/")  # the session's first request does its own work
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/{path}/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_agenda_runs_a_constant_number_of_queries(
    committee, meeting, login_as, ciso, unit, bu_member, secretary
):
    client = login_as(ciso)
    counts = []
    for total in (3, 30):
        while meeting.items.count() < total:
            report(unit, bu_member, title=f"Breach {meeting.items.count()}", severity="high")
            services.assemble_agenda(actor=secretary, meeting=meeting)
        client.get(f"/api/v1/meetings/{meeting.pk}/agenda/")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/meetings/{meeting.pk}/agenda/")
        assert len(response.json()) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_published_meeting_lists_with_its_local_time(committee, published, login_as, bu_member):
    data = login_as(bu_member).get(f"/api/v1/meetings/{published.pk}/").json()
    assert data["status"] == Meeting.Status.PUBLISHED
    assert data["time_zone"] == "Asia/Tokyo" and data["local_start"].endswith("+09:00")
