"""The API fuzzed against its own OpenAPI schema (schemathesis, in-process): as the CISO and
as a unit member, no operation answers with a server error, every answer (its status code, its
content type and its body) is one the schema documents, and no operation accepts a missing or
a wrong token."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from knox.models import AuthToken
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.parameters import ParameterLocation

from accounts.models import Office, User
from actions import services as action_services
from actions.models import Notification
from audit.models import AuditEvent
from cases import services as case_services
from cases.matrix import load_nist_matrix
from cases.models import Incident
from committee import services as committee_services
from committee.models import Attendance, Committee, CommitteeMember, Decision, Meeting
from config.wsgi import application
from systems import services as system_services
from tests.factories import UserFactory

People = Callable[[str], Any]  # a named fixture: a person, or the unit ("unit")

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
# Bounded, so CI stays within its time: a few examples per operation and role.
EXAMPLES = hypothesis_settings(
    max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Like Django's test client: a request starting or ending must not close the test's
    database connection (the app runs in-process, inside the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# --- One record for the operation to address --------------------------------------------------
#
# Random ids find nothing on an empty database, so every answer would be a 404 and no record's
# body would ever be checked. Each test makes, through the services, one record of the kind its
# operation addresses, in the unit both roles see, and the ids of well-formed paths point at it.


def _system(people: People) -> Any:
    return system_services.register_system(
        actor=people("admin"), unit=people("unit"), code="crm", name="CRM"
    )


def _system_with_inventory(people: People) -> dict[str, Any]:
    """A system running a log4j-core that advisories affect, known by a host name: its own
    operations and those of its inventory, SBOMs and network identities address it."""
    from systems import inventory

    system = _system(people)
    inventory.add_components(
        actor=people("bu_member"),
        system=system,
        entries=[inventory.Entry("purl", "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2")],
    )
    identity = inventory.add_network_identity(
        actor=people("bu_member"), system=system, kind="hostname", value="crm.example.com"
    )
    return {
        "id": system.pk,
        "system_id": system.pk,
        "component_id": system.components.get().pk,
        "identity_id": identity.pk,
    }


def _advisory(people: People) -> Any:
    from tests.vulnerabilities.samples import sample
    from vulnerabilities.models import Advisory
    from vulnerabilities.services.advisories import import_file

    relative = "osv/osvscanner_Maven_GHSA-3pxv-7cmr-fjr4.json"
    with sample(relative).open("rb") as stream:
        import_file(actor=people("ciso"), kind="osv", stream=stream, origin=relative)
    return Advisory.objects.get(source_id="GHSA-3pxv-7cmr-fjr4")


def _finding(people: People) -> dict[str, Any]:
    """An open finding: log4j-core 2.13.2 on the unit's system, and an advisory naming it."""
    from vulnerabilities.models import Finding

    _advisory(people)
    return {"id": Finding.objects.get(system_id=_system_with_inventory(people)["id"]).pk}


def _deadline(people: People) -> dict[str, Any]:
    from vulnerabilities.models import RemediationDeadline

    RemediationDeadline.objects.get_or_create(priority="p1", defaults={"days": 7})
    return {"priority": "p1"}


def _project(people: People) -> dict[str, Any]:
    from decimal import Decimal

    from quality import services as quality_services

    project = quality_services.register_project(
        actor=people("bu_member"),
        unit=people("unit"),
        system=_system(people),
        name="CRM rebuild",
        planned_budget=Decimal("100000"),
        planned_start=timezone.localdate(),
        planned_finish=timezone.localdate() + dt.timedelta(days=90),
    )
    return {"id": project.pk}


def _incident(people: People) -> Incident:
    incident = case_services.report_incident(
        actor=people("bu_member"),
        unit=people("unit"),
        title="Unauthorized access",
        description="Logins from an unknown network.",
        category=Incident.Category.UNAUTHORIZED_ACCESS,
        severity="high",
        detected_at=timezone.now() - dt.timedelta(hours=2),
    )
    case_services.add_measure(
        actor=people("ciso"), incident=incident, description="Enforce MFA", criteria={}
    )
    return incident


def _action(people: People) -> Any:
    action = action_services.create_action(
        actor=people("ciso"),
        unit=people("unit"),
        title="Enforce MFA on the sharing tool",
        due_on=timezone.localdate() + dt.timedelta(days=14),
    )
    action_services.add_update(actor=people("bu_member"), action=action, note="Under way.")
    return action


def _committee(people: People) -> Committee:
    committee = Committee.objects.create(
        name="Risk Compliance Committee", slug="rcc", chair_office=Office.objects.get(code="CEO")
    )
    for code in ("CISO", "CQO"):
        CommitteeMember.objects.create(committee=committee, office=Office.objects.get(code=code))
    committee.secretariat.add(people("secretary"))
    return committee


def _meeting(people: People) -> dict[str, Any]:
    """Published, quorate, with an item of the unit's, a decision on it and draft minutes."""
    present = [people(name) for name in ("chair", "ciso", "cqo")]  # seated before the roster
    # Under way: who came and what was decided are recorded only once a meeting has begun.
    starts_at = timezone.now() - dt.timedelta(minutes=10)
    meeting = Meeting.objects.create(
        committee=_committee(people),
        title="Risk Compliance Committee",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
    )
    secretary = people("secretary")
    meeting = committee_services.publish_agenda(actor=secretary, meeting=meeting)
    item = committee_services.add_agenda_item(
        actor=secretary, meeting=meeting, title="SOC budget", unit=people("unit")
    )
    for person in present:
        committee_services.record_attendance(
            actor=secretary, meeting=meeting, person=person, status=Attendance.Status.PRESENT
        )
    committee_services.record_decision(
        actor=present[0],
        meeting=meeting,
        item=item,
        outcome=Decision.Outcome.NOTED,
        text="The committee notes the budget.",
    )
    committee_services.draft_minutes(actor=secretary, meeting=meeting, body="Draft minutes.")
    return {"id": meeting.pk, "item_id": str(item.pk)}


def _resolution(people: People) -> dict[str, Any]:
    """Open for votes, with a meeting ahead to record its result in."""
    chair = people("chair")
    people("ciso"), people("cqo")  # seated before the ballots are frozen
    committee = _committee(people)
    starts_at = timezone.now() + dt.timedelta(days=3)
    Meeting.objects.create(
        committee=committee,
        title="Risk Compliance Committee",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
    )
    resolution = committee_services.open_resolution(
        actor=chair,
        committee=committee,
        title="Take the sharing tool's public links down",
        text="Resolved: public links stay off until MFA is enforced.",
        deadline=timezone.now() + dt.timedelta(days=2),
    )
    return {"id": resolution.pk}


def _suspension(people: People) -> dict[str, Any]:
    order = system_services.suspend_system(
        actor=people("ciso"), system=_system(people), reason="Exposed admin console"
    )
    return {"id": order.pk}


def _audit_event(people: People) -> dict[str, Any]:
    _system(people)
    return {"id": AuditEvent.objects.latest("pk").pk}


def _risk(people: People) -> dict[str, Any]:
    load_nist_matrix()
    member = people("bu_member")
    risk = case_services.register_risk(
        actor=member,
        unit=people("unit"),
        owner=member,
        title="Stale accounts",
        likelihood=4,
        impact=4,
    )
    return {"id": risk.pk}


def _directive(people: People) -> dict[str, Any]:
    directive = action_services.draft_directive(
        actor=people("ciso"),
        title="Patch the VPN",
        body="Apply the vendor fix.",
        deadline=timezone.localdate() + dt.timedelta(days=30),
        units=[people("unit")],
    )
    return {"id": directive.pk}


def _notification(people: People) -> dict[str, Any]:
    notification = Notification.objects.create(
        recipient=people("role"), action=_action(people), stage="reminder", message="Due soon."
    )
    return {"id": notification.pk}


def _calendar_feed(people: People) -> dict[str, Any]:
    feed, _token = committee_services.create_calendar_feed(actor=people("role"))
    return {"id": feed.pk}


def _scan(people: People) -> dict[str, Any]:
    """A Trivy report of the unit's system, imported: both roles see it and its host."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.vulnerabilities.samples import sample
    from vulnerabilities.services import scans

    relative = "trivy/trivy_pip.json"
    scan = scans.receive(
        actor=people("bu_member"),
        upload=SimpleUploadedFile("pip.json", sample(relative).read_bytes()),
        system=_system(people),
    )
    return {"id": scan.pk}


def _surface(people: People) -> dict[str, Any]:
    """An nmap scan of the company's addresses: one host is the unit's system (its services
    are the system's), the other nobody registered, assigned to the unit to claim."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from systems import inventory
    from tests.vulnerabilities.samples import sample
    from vulnerabilities.models import DiscoveredAsset, ExposedService
    from vulnerabilities.services import scans, surface

    system = _system(people)
    inventory.add_network_identity(  # since before the sample scan ran, in 2013
        actor=people("bu_member"),
        system=system,
        kind="ip",
        value="127.0.0.1",
        valid_from=dt.date(2010, 1, 1),
    )
    relative = "nmap/libnmap_2_hosts_version.xml"
    scans.receive(
        actor=people("ciso"),
        upload=SimpleUploadedFile("nmap.xml", sample(relative).read_bytes()),
    )
    asset = surface.assign(
        actor=people("ciso"), asset=DiscoveredAsset.objects.get(), unit=people("unit")
    )
    return {"asset": asset.pk, "service": ExposedService.objects.filter(system=system)[0].pk}


# The URL's first segment -> the path parameters that address one such record.
RECORDS: dict[str, Callable[[People], dict[str, Any]]] = {
    "business-units": lambda people: {"id": people("unit").pk},
    "offices": lambda people: {"id": Office.objects.get(code="CISO").pk},
    "systems": _system_with_inventory,
    "suspensions": _suspension,
    "audit-events": _audit_event,
    "incidents": lambda people: {"id": _incident(people).pk},
    "risks": _risk,
    "actions": lambda people: {"id": _action(people).pk},
    "directives": _directive,
    "notifications": _notification,
    "calendar-feeds": _calendar_feed,
    "committees": lambda people: {"id": _committee(people).pk},
    "meetings": _meeting,
    "resolutions": _resolution,
    "projects": _project,
    "quality-thresholds": lambda people: {"indicator": "spi"},
    "advisories": lambda people: {"id": _advisory(people).pk},
    "findings": _finding,
    "remediation-deadlines": _deadline,
    # The exposure question's answer is about the systems that run log4j-core.
    "exposure": _system_with_inventory,
    "scans": _scan,
    "discovered-assets": lambda people: {"id": _surface(people)["asset"]},
    "exposed-services": lambda people: {"id": _surface(people)["service"]},
}


@pytest.fixture
def records(request, role) -> Callable[[str], dict[str, Any]]:
    """Made once per test (an operation and a role), on its first example, and kept for the
    rest; the examples may change them, as clients would."""
    made: dict[str, dict[str, Any]] = {}

    def people(name: str) -> Any:
        if name == "role":
            name = role
        if name == "admin":
            return User.objects.filter(username="admin").first() or UserFactory.create(
                username="admin", is_superuser=True, is_staff=True
            )
        return request.getfixturevalue(name)

    def records_for(resource: str) -> dict[str, Any]:
        if resource not in made:
            make = RECORDS.get(resource)
            made[resource] = make(people) if make is not None else {}
        return made[resource]

    return records_for


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ciso", "bu_member"])
@schema.parametrize()
@EXAMPLES
def test_every_answer_is_one_the_schema_documents(case, role, request, records):
    """No server error, and every status code, content type and body as documented."""
    user = request.getfixturevalue(role)
    _, token = AuthToken.objects.create(user=user)
    ids = records(case.operation.path.split("/")[3])
    if case.meta is None or not case.meta.is_negative_at(ParameterLocation.PATH):
        # A well-formed path addresses the record; malformed ones still go where they were sent.
        case.path_parameters.update({k: v for k, v in ids.items() if k in case.path_parameters})
    response = case.call(headers={"Authorization": f"Token {token}"})
    case.validate_response(response, checks=CHECKS)


@pytest.mark.django_db
def test_no_operation_accepts_missing_or_wrong_credentials(client):
    """Every operation of the schema, called with no credentials and with a forged token: 401
    or 403, never data (the schema and its docs are the only public API pages)."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    checked = 0
    for path, operations in paths.items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method in operations:
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            for headers in ({}, {"HTTP_AUTHORIZATION": "Token forged-token-0123456789abcdef"}):
                response = getattr(client, method)(url, HTTP_ACCEPT="application/json", **headers)
                assert response.status_code in {401, 403}, (method, url, headers, response)
                checked += 1
    assert checked > 150  # two tries for each of the ~90 operations


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)  # as in production: no test transaction to abort
def test_a_value_the_database_cannot_hold_is_a_400_not_a_500(login_as, ciso):
    """Found by the fuzzer: Python accepts a +22:38 offset, PostgreSQL refuses it."""
    response = login_as(ciso).get(
        "/api/v1/incidents/",
        {"reported_after": "5823-03-04T17:20:55+22:38"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    # Refused by the date window before the database sees it (config/dates.py).
    assert "reported_after" in response.json()
