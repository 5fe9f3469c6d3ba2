"""load_demo: the README's demo organisation, idempotent, refused outside demo mode."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from accounts import policy
from accounts.models import BusinessUnit, Delegation, Membership, Office, User
from actions.models import Action
from audit.models import AuditEvent
from cases.models import Incident, Risk
from committee.models import AgendaItem, Committee, Meeting
from systems.models import SuspensionOrder, System

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, object]:
    return {
        "users": sorted(User.objects.values_list("username", "is_superuser", "password")),
        "groups": sorted(User.groups.through.objects.values_list("user__username", "group__name")),
        "units": sorted(BusinessUnit.objects.values_list("code", "name", "head__username")),
        "memberships": sorted(Membership.objects.values_list("user__username", "unit__code")),
        "offices": sorted(Office.objects.values_list("code", "holder__username")),
        "authenticators": sorted(
            Authenticator.objects.values_list("user__username", "type", "data")
        ),
        "delegations": Delegation.objects.count(),
        "audit": AuditEvent.objects.count(),
        "role_groups": sorted(Group.objects.values_list("name", flat=True)),
        "systems": sorted(System.objects.values_list("code", "unit__code", "status")),
        "suspensions": SuspensionOrder.objects.count(),
        "incidents": sorted(Incident.objects.values_list("reference", "status")),
        "risks": sorted(Risk.objects.values_list("reference", "residual_level")),
        "actions": sorted(Action.objects.values_list("reference", "unit__code", "status")),
        "meetings": sorted(Meeting.objects.values_list("starts_at", "status", "ical_uid")),
        "agenda": sorted(AgendaItem.objects.values_list("meeting__starts_at", "source_key")),
    }


def run_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_refused_without_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="DEMO_MODE"):
        run_demo()
    assert not User.objects.filter(username="chair").exists()


def test_twice_leaves_the_same_data(settings):
    settings.DEMO_MODE = True
    first_output = run_demo()
    first = snapshot()
    second_output = run_demo()
    assert snapshot() == first
    assert first_output == second_output  # the same TOTP secrets are printed again


def test_the_demo_organisation(settings):
    settings.DEMO_MODE = True
    output = run_demo()
    for username in ["chair", "ciso", "cqo", "cfo", "chro", "secretary", "auditor", "reviewer"]:
        user = User.objects.get(username=username)
        assert policy.has_mfa(user), username
        assert f"  {username} " in output
    holders = Office.objects.values_list("code", "holder__username")
    assert dict(holders) == {
        "CEO": "chair",
        "CISO": "ciso",
        "CQO": "cqo",
        "CFO": "cfo",
        "CHRO": "chro",
        "SEC": "secretary",  # the secretariat is an office, delegable like the others
    }
    office = Committee.objects.get(slug="rcc").secretariat_office
    assert office is not None and office.code == "SEC"
    units = list(BusinessUnit.objects.all())
    assert len(units) >= 4
    for unit in units:
        head = User.objects.get(username=f"{unit.code.lower()}-head")
        member = User.objects.get(username=f"{unit.code.lower()}-member")
        assert unit.head == head
        assert list(policy.units_of(member)) == [unit]
    assert policy.has_role(User.objects.get(username="reviewer"), "quality_reviewer")
    assert policy.has_role(User.objects.get(username="auditor"), "auditor")
    assert policy.is_chair(User.objects.get(username="chair"))
    assert "otpauth://totp/" in output


def test_the_demo_tells_the_scenario(settings):
    settings.DEMO_MODE = True
    run_demo()
    assert System.objects.get(code="project-share").status == "suspended"
    assert SuspensionOrder.objects.get().issued_office == "CISO"
    assert Incident.objects.filter(personal_data_involved=True, domain="quality").count() == 1
    assert Risk.objects.filter(above_appetite=True).exists()
    from actions.models import Action, Directive

    directive = Directive.objects.get()
    assert directive.status == "issued"
    # The MFA roll-out reached every internet-facing system without MFA, in every unit.
    reached = set(Action.objects.filter(directive=directive).values_list("system__code", flat=True))
    assert reached == {"project-share", "cloud-console", "legacy-ftp"}
    pubsec_member = User.objects.get(username="pubsec-member")
    from cases import policy as cases_policy

    visible = set(
        cases_policy.visible_incidents(pubsec_member).values_list("unit__code", flat=True)
    )
    assert visible == {"PUBSEC"}
    from quality.models import Phase, Project

    phases = dict(Project.objects.values_list("system__code", "phase"))
    assert phases == {
        "resident-cert": Phase.BUILD,  # reviewed at planning and design
        "cloud-console": Phase.TEST,  # waiting at the release gate
        "core-banking-batch": Phase.PLANNING,  # personal data: held until reviewed
    }
    flagged = Project.objects.get(system__code="resident-cert")
    assert flagged.flags.get(cleared_at__isnull=True).trending == ["spi", "cpi"]
    assert Action.objects.filter(origin_project=flagged).count() == 1  # the review's finding


def test_the_demo_committee_has_three_meetings_and_a_real_agenda(settings):
    settings.DEMO_MODE = True
    # On a day between meetings: from a second Tuesday's meeting to midnight, the next three
    # months hold two second Tuesdays, not three.
    with time_machine.travel(dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC), tick=True):
        output = run_demo()
    committee = Committee.objects.get()
    assert committee.chair_office.code == "CEO"
    assert sorted(committee.members.values_list("office__code", flat=True)) == [
        "CFO",
        "CHRO",
        "CISO",
        "CQO",
    ]
    assert list(committee.secretariat.values_list("username", flat=True)) == ["secretary"]
    meetings = list(committee.meetings.order_by("starts_at"))
    assert len(meetings) == 3
    for meeting in meetings:
        local = meeting.starts_at.astimezone(committee.zone)
        assert (local.weekday(), local.hour, 8 <= local.day <= 14) == (1, 10, True)
        assert meeting.title in output
    kinds = set(meetings[0].items.values_list("kind", flat=True))
    # The scenario's suspension, incidents, risk, directive and the certificate project, falling
    # behind, are on the next agenda.
    assert {"suspension", "incident", "risk", "directive", "quality_flag"} <= kinds
    assert not meetings[1].items.exists()


def test_the_demo_shows_vulnerability_findings(settings):
    settings.DEMO_MODE = True
    run_demo()
    from vulnerabilities.models import Finding

    open_findings = Finding.objects.unresolved()
    by_system = set(open_findings.values_list("system__code", "vulnerability__key"))
    assert ("resident-cert", "CVE-2021-44228") in by_system  # Log4Shell
    assert ("cloud-console", "CVE-2021-33203") in by_system  # Django
    assert ("project-share", "CVE-2021-23424") in by_system  # ansi-html
    assert not open_findings.filter(
        system__code="cert-print-batch", vulnerability__key="CVE-2021-44228"
    ).exists()
    kev = open_findings.get(vulnerability__kev=True)
    assert (kev.system.code, kev.priority) == ("resident-cert", "p1")
    assert open_findings.overdue().filter(pk=kev.pk).exists()  # KEV's due date has passed
    assert kev.action is not None and kev.action.unit.code == "PUBSEC"


def test_the_demo_shows_scans_and_the_attack_surface(settings):
    settings.DEMO_MODE = True
    run_demo()
    from vulnerabilities import selectors
    from vulnerabilities.models import DiscoveredAsset, Finding, Scan

    assert set(Scan.objects.values_list("format", "state")) == {("trivy", "done"), ("nmap", "done")}
    # Werkzeug, seen only by the unit's Trivy scan, on the cloud console.
    seen = Finding.objects.unresolved().filter(system__code="cloud-console", seen_by_scan=True)
    assert set(seen.values_list("vulnerability__key", flat=True)) == {
        "CVE-2019-14806",
        "CVE-2020-28724",
    }
    # MySQL open on the print batch, registered as not facing the internet; scanme.nmap.org
    # is nobody's.
    view = selectors.coverage(User.objects.get(username="ciso"))
    assert [s.code for s in view.not_registered_facing] == ["cert-print-batch"]
    assert any(service.port == 3306 for service in view.risky)
    asset = DiscoveredAsset.objects.get()
    assert asset.address == "74.207.244.221" and asset.state == DiscoveredAsset.State.NEW
