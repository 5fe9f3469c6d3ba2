"""The audit-trail page: who may read it, its filters and exports, and the chain check that runs
only when a reader asks for it."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from audit import services as audit
from audit import tasks
from audit.models import AuditEvent
from systems.models import System
from tests.factories import BusinessUnitFactory, UserFactory
from tests.pages import assert_constant_queries, csv_rows, queries_for, xlsx_rows

pytestmark = pytest.mark.django_db

PAGE = "/audit/"
VERIFY = "/audit/verify/"


def html(response) -> str:
    return response.content.decode()


def sequences(response) -> list[int]:
    """The rows of the trail fixture a page lists (signing in adds an auth.login event too)."""
    rows = re.findall(r'data-testid="event-row" data-sequence="(\d+)"', html(response))
    return [int(n) for n in rows if int(n) <= 3]


def _tamper(sql: str, params: list[str | int]) -> None:
    """What a person with database access might do (as in test_chain): raw SQL, trigger off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


@pytest.fixture
def trail(db, ciso):
    """Three events by two people under two offices, on two days."""
    writer = UserFactory.create(username="writer")
    day_one = timezone.make_aware(datetime(2026, 3, 2, 9, 0))
    with time_machine.travel(day_one, tick=False):
        first = audit.record(actor=writer, verb="system.registered", target=writer)
    with time_machine.travel(day_one + timedelta(days=1), tick=False):
        second = audit.record(actor=ciso, office="CISO", verb="system.suspended", target=ciso)
        third = audit.record(
            actor=writer, verb="action.submitted", target_label="ACT-1", details={"n": 1}
        )
    audit.seal()  # as the sealer does seconds later: the trail lists them by their place
    return list(AuditEvent.objects.filter(pk__in=[first.pk, second.pk, third.pk]).order_by("pk"))


# --- Who may read it -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["auditor", "chair", "ciso", "cqo"])
def test_readers_of_the_trail_see_it(request, login_as, trail, role):
    response = login_as(request.getfixturevalue(role)).get(PAGE)
    assert response.status_code == 200
    assert sequences(response) == [3, 2, 1]  # newest first
    assert 'href="/audit/"' in html(response)  # and the navigation offers it


@pytest.mark.parametrize("role", ["secretary", "bu_head", "bu_member"])
def test_others_are_not_told_it_exists(request, login_as, trail, monkeypatch, role):
    monkeypatch.setattr(audit, "verify_chain", lambda **kw: pytest.fail("walked the chain"))
    client = login_as(request.getfixturevalue(role))
    assert client.get(PAGE).status_code == 404
    assert client.get(PAGE, {"export": "csv"}).status_code == 404
    assert client.post(VERIFY).status_code == 404
    assert 'href="/audit/"' not in html(client.get("/systems/"))


def test_signed_out_readers_are_sent_to_sign_in(client, trail):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Filters and exports ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"verb": "system.suspended"}, [2]),
        ({"actor": "writer"}, [3, 1]),
        ({"office": "CISO"}, [2]),
        ({"target_type": "accounts.user"}, [2, 1]),
        ({"date_from": "2026-03-03"}, [3, 2]),
        ({"date_to": "2026-03-02"}, [1]),
        ({"date_from": "2026-03-02", "date_to": "2026-03-02", "actor": "writer"}, [1]),
    ],
)
def test_filters(login_as, auditor, trail, query, expected):
    assert sequences(login_as(auditor).get(PAGE, query)) == expected


def test_a_date_that_does_not_parse_shows_its_error_and_no_rows(login_as, auditor, trail):
    response = login_as(auditor).get(PAGE, {"date_from": "yesterday"})
    assert response.status_code == 400  # as any form with bad input
    assert sequences(response) == []
    assert "Enter a valid date." in html(response)


def test_exports_carry_the_filtered_events(login_as, auditor, trail):
    client = login_as(auditor)
    rows = csv_rows(client.get(PAGE, {"actor": "writer", "export": "csv"}).content)
    assert rows[0][:5] == ["Sequence", "Occurred at", "Actor", "Office", "Verb"]
    assert [(row[0], row[4]) for row in rows[1:]] == [
        ("3", "action.submitted"),
        ("1", "system.registered"),
    ]
    assert rows[1][8] == '{"n": 1}'
    assert rows[1][9] == trail[2].hash
    sheet = xlsx_rows(client.get(PAGE, {"office": "CISO", "export": "xlsx"}).content)
    assert [row[0] for row in sheet[1:]] == [2]


def test_the_trail_costs_the_same_queries_for_3_and_30_events(login_as, auditor):
    actor = UserFactory.create(username="writer")
    counter = itertools.count()

    def grow(n: int) -> None:
        for _ in range(n):
            audit.record(actor=actor, verb="test.event", target=actor, details={"n": next(counter)})

    assert_constant_queries(login_as(auditor), PAGE, grow)


def test_reading_the_page_never_walks_the_chain(login_as, auditor, trail, monkeypatch):
    monkeypatch.setattr(audit, "verify_chain", lambda **kw: pytest.fail("walked the chain"))
    client = login_as(auditor)
    assert queries_for(client, PAGE) < 20
    response = client.get(PAGE)
    assert 'data-testid="verify-chain"' in html(response)
    assert 'data-ok=""' in html(response)  # never checked yet, and the page says so


# --- The chain check -------------------------------------------------------------------------


def test_verify_now_reports_an_intact_chain(login_as, auditor, trail):
    client = login_as(auditor)
    assert client.get(VERIFY).status_code == 405  # a walk of the whole trail is a button
    response = client.post(VERIFY + "?actor=writer")
    assert response.status_code == 302
    assert response["Location"] == PAGE + "?actor=writer"
    page = client.get(response["Location"])
    total = AuditEvent.objects.count()  # the trail and the sign-in
    assert total > 3
    message = f"The audit chain verifies: {total} events checked, none altered or missing."
    assert message in html(page)


def test_verify_now_names_the_first_altered_event(login_as, auditor, trail):
    _tamper("UPDATE audit_auditevent SET verb = %s WHERE sequence = %s", ["nothing.happened", 2])
    client = login_as(auditor)
    page = client.get(client.post(VERIFY)["Location"])
    assert "The audit chain is broken at event #2" in html(page)
    assert "was altered after it was written" in html(page)


def test_verify_now_with_htmx_replaces_the_panel(login_as, chair, trail):
    response = login_as(chair).post(VERIFY, HTTP_HX_REQUEST="true")
    total = AuditEvent.objects.count()
    assert response.status_code == 200
    assert html(response).lstrip().startswith('<div class="card mb-3" id="audit-chain"')
    assert 'data-testid="chain-status" data-ok="true"' in html(response)
    assert f"Checked just now: {total} events, none altered or missing." in html(response)


def test_the_panel_shows_the_last_daily_check(login_as, auditor, trail):
    tasks.verify_audit_chain()
    _tamper("UPDATE audit_auditevent SET verb = %s WHERE sequence = %s", ["nothing.happened", 1])
    tasks.verify_audit_chain()  # finds the break and records it
    response = login_as(auditor).get(PAGE)
    assert 'data-testid="chain-status" data-ok="false"' in html(response)
    assert "found the chain broken at event #1" in html(response)
    assert AuditEvent.objects.filter(verb="audit.broken").count() == 1


# --- Each event as a sentence ----------------------------------------------------------------


@pytest.fixture
def suspension(db, ciso):
    """The CISO's suspension of a system, as systems.services records it."""
    unit = BusinessUnitFactory.create(code="PUBSEC")
    system = System.objects.create(unit=unit, code="erp-01", name="ERP core")
    event = audit.record(
        actor=ciso,
        office="CISO",
        verb="system.suspended",
        target=system,
        details={"order": 7, "reason": "Unauthorised access", "case": None},
    )
    audit.seal()
    return system, AuditEvent.objects.get(pk=event.pk)


def row_of(response, event) -> str:
    found = re.search(
        rf'<tr data-testid="event-row" data-sequence="{event.sequence}">(.*?)\n    </tr>',
        html(response),
        re.S,
    )
    assert found, f"event #{event.sequence} is not listed"
    return found.group(1)


def test_each_event_reads_as_a_sentence_with_its_details_named(login_as, auditor, suspension):
    system, event = suspension
    row = row_of(login_as(auditor).get(PAGE), event)
    assert (
        f'ciso (CISO) suspended system <a href="/systems/{system.pk}/">erp-01 — ERP core</a>' in row
    )
    details = re.findall(r"<th[^>]*>([^<]*)</th><td[^>]*>([^<]*)</td>", row)
    assert details == [("Order", "7"), ("Reason", "Unauthorised access")]  # no empty case
    # no stored code or JSON reaches the reader
    assert "{" not in row and "&quot;" not in row
    assert ">system.suspended<" not in row and "systems.system" not in row


def test_the_trail_reads_in_the_readers_language(client, login_as, auditor, suspension):
    _system, event = suspension
    client = login_as(auditor)
    client.cookies["django_language"] = "ja"
    response = client.get(PAGE)
    assert '<html lang="ja"' in html(response)
    details = re.findall(r"<th[^>]*>([^<]*)</th><td[^>]*>([^<]*)</td>", row_of(response, event))
    assert details == [("停止命令", "7"), ("理由", "Unauthorised access")]


def test_the_verb_filter_offers_verbs_by_name(login_as, auditor, suspension):
    page = html(login_as(auditor).get(PAGE))
    assert '<option value="system.suspended">System suspended</option>' in page
    assert '<option value="auth.login">Signed in</option>' in page


def test_exports_and_the_api_carry_the_sentence_beside_the_record(login_as, auditor, suspension):
    client = login_as(auditor)
    rows = csv_rows(client.get(PAGE, {"verb": "system.suspended", "export": "csv"}).content)
    assert rows[0][-1] == "Event"
    assert rows[1][4] == "system.suspended"  # the record's own columns stay as they were
    assert rows[1][-1] == "ciso (CISO) suspended system erp-01 — ERP core"
    found = client.get("/api/v1/audit-events/", {"verb": "system.suspended"}).json()["results"]
    assert found[0]["verb"] == "system.suspended"
    assert found[0]["details"] == {"order": 7, "reason": "Unauthorised access", "case": None}
    assert found[0]["sentence"] == "ciso (CISO) suspended system erp-01 — ERP core"


def test_sentences_cost_no_queries_whatever_the_verbs(login_as, auditor, ciso):
    unit = BusinessUnitFactory.create(code="PUBSEC")
    counter = itertools.count()

    def grow(n: int) -> None:
        for _ in range(n):
            i = next(counter)
            system = System.objects.create(unit=unit, code=f"sys-{i}", name=f"System {i}")
            audit.record(
                actor=ciso,
                office="CISO",
                verb="system.suspended",
                target=system,
                details={"order": i, "reason": "r"},
            )
            audit.record(
                actor=ciso,
                verb="action.verified",
                target_label=f"ACT-{i}",
                details={"from": "submitted", "to": "verified"},
            )

    assert_constant_queries(login_as(auditor), PAGE, grow)


def test_an_event_not_sealed_yet_is_listed_as_sealing(login_as, auditor, trail):
    client = login_as(auditor)  # signing in writes an event the sealer has not chained yet
    waiting = audit.record(actor=None, verb="action.submitted", target_label="ACT-2")
    listed = html(client.get(PAGE))
    assert re.search(r'data-sequence="">\s*<td><span[^>]*data-testid="unsealed">sealing<', listed)
    assert "ACT-2" in listed
    audit.seal()
    sealed = AuditEvent.objects.get(pk=waiting.pk).sequence
    assert f'data-sequence="{sealed}"' in html(client.get(PAGE))


def test_the_api_follows_the_trail_by_place_without_missing_late_commits(login_as, auditor, trail):
    """Ids are given when an event is written, places when it is sealed: a reader asking for
    the places after the last one it has misses nothing that committed late."""
    client = login_as(auditor)
    late = audit.record(actor=None, verb="action.submitted", target_label="ACT-9")
    asked = client.get("/api/v1/audit-events/", {"sealed_after": 2}).json()["results"]
    assert [e["sequence"] for e in asked] == [3]  # the unsealed ones wait
    audit.seal()
    asked = client.get("/api/v1/audit-events/", {"sealed_after": 3}).json()["results"]
    assert late.pk in [e["id"] for e in asked] and all(e["sequence"] > 3 for e in asked)
    assert client.get("/api/v1/audit-events/", {"sealed_after": "1.5"}).status_code == 400
