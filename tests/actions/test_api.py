"""The actions API: lifecycle, segregation of duties, If-Match, evidence, re-planning, scoping."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions import services
from actions.models import Action, Evidence
from audit.models import AuditEvent
from tests.actions import files
from tests.actions.conftest import task
from tests.conftest import enrol_totp, sign_in

pytestmark = pytest.mark.django_db


def act(
    client: Client, action: Action, name: str, body: dict | None = None, etag: str | None = None
) -> Any:
    headers: dict[str, Any] = {"HTTP_IF_MATCH": etag} if etag else {}
    return client.post(
        f"/api/v1/actions/{action.pk}/{name}/",
        body or {},
        content_type="application/json",
        **headers,
    )


def current_etag(client: Client, action: Action) -> str:
    return client.get(f"/api/v1/actions/{action.pk}/")["ETag"]


def test_the_whole_lifecycle(login_as, bu_member, ciso, action):
    unit_client = login_as(bu_member)
    for name in ["start", "submit"]:
        response = act(unit_client, action, name, etag=current_etag(unit_client, action))
        assert response.status_code == 200, response.json()
    unit_client.logout()
    ciso_client = login_as(ciso)
    returned = act(
        ciso_client,
        action,
        "return",
        {"note": "No evidence attached"},
        current_etag(ciso_client, action),
    )
    assert returned.json()["status"] == "returned"
    ciso_client.logout()
    unit_client = login_as(bu_member)
    for name in ["start", "submit"]:
        assert (
            act(unit_client, action, name, etag=current_etag(unit_client, action)).status_code
            == 200
        )
    unit_client.logout()
    ciso_client = login_as(ciso)
    verified = act(ciso_client, action, "verify", etag=current_etag(ciso_client, action))
    assert verified.status_code == 200
    assert verified.json()["status"] == "verified"
    assert verified.json()["percent_done"] == 100
    event = AuditEvent.objects.get(verb="action.verified")
    assert (event.actor, event.office) == (ciso, "CISO")
    statuses = [u.new_status for u in action.updates.all()]
    assert statuses == [
        "in_progress",
        "submitted",
        "returned",
        "in_progress",
        "submitted",
        "verified",
    ]


def test_an_illegal_move_is_a_400_naming_the_allowed_ones(login_as, ciso, action):
    client = login_as(ciso)
    response = act(client, action, "verify", etag=current_etag(client, action))
    assert response.status_code == 400
    assert response.json()["status"] == [
        "Cannot verify an action that is open. From open you may: start, cancel."
    ]


def test_nobody_verifies_their_own_submission(unit, ciso):
    from accounts import services as accounts_services

    accounts_services.add_member(actor=None, unit=unit, user=ciso)  # the CISO also sits in the unit
    action = task(unit, ciso)
    services.transition_action(actor=ciso, action=action, act="start")
    services.transition_action(actor=ciso, action=action, act="submit")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="segregation"):
        services.transition_action(actor=ciso, action=action, act="verify")
    action.refresh_from_db()
    assert action.status == "submitted"


@pytest.mark.parametrize("role", ["bu_member", "cqo", "auditor"])
def test_who_may_not_verify_gets_403(request, login_as, bu_member, action, role):
    services.transition_action(actor=bu_member, action=action, act="start")
    services.transition_action(actor=bu_member, action=action, act="submit")
    client = login_as(request.getfixturevalue(role))
    assert act(client, action, "verify", etag=current_etag(client, action)).status_code == 403


def test_another_units_action_is_a_404(login_as, other_bu_member, action):
    client = login_as(other_bu_member)
    assert client.get(f"/api/v1/actions/{action.pk}/").status_code == 404
    assert act(client, action, "start", etag='"x"').status_code == 404


def test_writes_need_if_match(login_as, bu_member, action):
    client = login_as(bu_member)
    assert act(client, action, "start").status_code == 428
    etag = current_etag(client, action)
    assert act(client, action, "start", etag=etag).status_code == 200
    stale = client.post(
        f"/api/v1/actions/{action.pk}/updates/",
        {"note": "late"},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert stale.status_code == 412
    assert action.updates.count() == 1


def test_a_unit_cannot_move_its_own_deadline(login_as, bu_member, action):
    client = login_as(bu_member)
    due = action.due_on
    response = act(
        client,
        action,
        "replan",
        {"reason": "Too busy", "due_on": str(due + timedelta(days=60))},
        current_etag(client, action),
    )
    assert response.status_code == 403
    action.refresh_from_db()
    assert (action.due_on, action.unit.code, action.domain) == (due, "PUBSEC", "security")


def test_the_issuing_office_replans_with_a_reason(login_as, ciso, action, other_unit):
    client = login_as(ciso)
    no_reason = act(
        client, action, "replan", {"due_on": "2030-01-01"}, current_etag(client, action)
    )
    assert no_reason.status_code == 400
    moved = act(
        client,
        action,
        "replan",
        {"reason": "Cloud owns it now", "unit": "CLOUD"},
        current_etag(client, action),
    )
    assert moved.status_code == 200
    assert moved.json()["unit"] == "CLOUD"
    assert AuditEvent.objects.get(verb="action.replanned").details["unit"] == {
        "from": "PUBSEC",
        "to": "CLOUD",
    }


def test_cancelling_needs_a_reason(login_as, ciso, action):
    client = login_as(ciso)
    assert act(client, action, "cancel", etag=current_etag(client, action)).status_code == 400
    done = act(
        client,
        action,
        "cancel",
        {"note": "Superseded by a directive"},
        current_etag(client, action),
    )
    assert done.json()["status"] == "cancelled"


def test_updates_with_evidence(login_as, bu_member, action, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = login_as(bu_member)
    url = f"/api/v1/actions/{action.pk}/updates/"
    pdf = SimpleUploadedFile("mfa-report.pdf", b"%PDF-1.7 evidence", content_type="application/pdf")
    response = client.post(
        url,
        {"note": "MFA enforced for all accounts", "percent_done": "80", "files": [pdf]},
        HTTP_IF_MATCH=current_etag(client, action),
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["percent_done"] == 80
    assert body["evidence"][0]["name"] == "mfa-report.pdf"
    stored = Evidence.objects.get()
    assert stored.file.read() == b"%PDF-1.7 evidence"
    action.refresh_from_db()
    assert action.percent_done == 80
    exe = SimpleUploadedFile("tool.exe", files.EXE, content_type="application/x-msdownload")
    refused = client.post(url, {"files": [exe]}, HTTP_IF_MATCH=current_etag(client, action))
    assert refused.status_code == 400
    assert "files" in refused.json()
    settings.EVIDENCE_MAX_BYTES = 4
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.7 too big", content_type="application/pdf")
    too_big = client.post(url, {"files": [big]}, HTTP_IF_MATCH=current_etag(client, action))
    assert too_big.status_code == 400
    assert Evidence.objects.count() == 1
    assert [u["note"] for u in client.get(url).json()] == ["MFA enforced for all accounts"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "unit": "PUBSEC"}, "due_on"),
        ({"title": "x", "unit": "NOWHERE", "due_on": "2030-01-01"}, "unit"),
        ({"title": "x", "unit": "PUBSEC", "due_on": "2001-01-01"}, "due_on"),
        ({"title": "x", "unit": "PUBSEC", "due_on": "soon"}, "due_on"),
        (
            {"title": "x", "unit": "PUBSEC", "due_on": "2030-01-01", "assignee": "other_bu_member"},
            "assignee",
        ),
        ({"title": "x", "unit": "PUBSEC", "due_on": "2030-01-01", "status": "verified"}, "status"),
    ],
)
def test_bad_action_input_is_a_400(login_as, ciso, unit, other_bu_member, body, field):
    response = login_as(ciso).post("/api/v1/actions/", body, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()


def test_filters(login_as, bu_member, auditor, unit, ciso):
    mine = task(unit, ciso, title="Mine", assignee=bu_member)
    late = task(unit, ciso, title="Late")
    Action.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - timedelta(days=3))
    client = login_as(bu_member)

    def titles(q):
        return sorted(a["title"] for a in client.get(f"/api/v1/actions/?{q}").json()["results"])

    assert titles("mine=true") == ["Mine"]
    assert titles("overdue=true") == ["Late"]
    assert titles(f"due_before={timezone.localdate()}") == ["Late"]
    assert titles("my_unit=true") == ["Late", "Mine"]
    assert client.get("/api/v1/actions/?overdue=true").json()["results"][0]["overdue"] is True
    assert mine.pk


def _queries(client: Client, path: str) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", ["auditor", "bu_member"])
def test_action_list_runs_constant_queries(request, login_as, unit, bu_member, ciso, role):
    client = login_as(request.getfixturevalue(role))
    for n in range(3):
        task(unit, ciso, title=f"a{n}", assignee=bu_member)
    few = _queries(client, "/api/v1/actions/")
    for n in range(27):
        task(unit, ciso, title=f"b{n}", assignee=bu_member)
    assert _queries(client, "/api/v1/actions/") == few


@pytest.mark.django_db(transaction=True)
def test_fifty_writers_with_one_etag_one_wins(unit, bu_member, ciso):
    action = task(unit, ciso)
    enrol_totp(bu_member)
    etag = services.etag(action)
    codes: list[int] = []
    barrier = threading.Barrier(50)

    def write(n: int) -> None:
        try:
            client = sign_in(Client(), bu_member)
            barrier.wait()
            response = client.post(
                f"/api/v1/actions/{action.pk}/updates/",
                {"note": f"writer {n}"},
                content_type="application/json",
                HTTP_IF_MATCH=etag,
            )
            codes.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(codes) == [201] + [412] * 49
    assert action.updates.count() == 1


def test_an_update_reads_nothing_before_it_locks_and_refuses_as_reads_do(
    login_as, bu_member, other_bu_member, ciso, action
):
    """The view passes the id; the service's locked read decides: 404 for an action the person
    cannot see (or an id that is no number), 403 for one they see but may not progress."""
    etag = services.etag(action)
    body = {"note": "done", "percent_done": 10}
    client = login_as(other_bu_member)
    for url in (f"/api/v1/actions/{action.pk}/updates/", "/api/v1/actions/x1/updates/"):
        response = client.post(url, body, content_type="application/json", HTTP_IF_MATCH=etag)
        assert response.status_code == 404, url
    client.logout()
    client = login_as(ciso)  # reads every action, progresses none of them
    refused = client.post(
        f"/api/v1/actions/{action.pk}/updates/",
        body,
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert refused.status_code == 403
    assert "owning unit" in refused.json()["detail"]
    assert action.updates.count() == 0
    assert not AuditEvent.objects.filter(verb="action.updated").exists()
    client.logout()
    client = login_as(bu_member)
    with CaptureQueriesContext(connection) as queries:
        done = client.post(
            f"/api/v1/actions/{action.pk}/updates/",
            body,
            content_type="application/json",
            HTTP_IF_MATCH=etag,
        )
    assert done.status_code == 201, done.json()
    writes = [q["sql"] for q in queries.captured_queries]
    locked = [n for n, text in enumerate(writes) if text.startswith('SELECT "actions_action"')]
    # The action is read once, locked, and nothing of it is read before.
    assert len(locked) == 1
    assert not any('"actions_action"' in text for text in writes[: locked[0]])
    assert done.headers["ETag"] == services.etag(Action.objects.get(pk=action.pk))
    event = AuditEvent.objects.get(verb="action.updated")
    assert (event.actor, event.target_id, event.details["percent_done"]) == (
        bu_member,
        str(action.pk),
        10,
    )
