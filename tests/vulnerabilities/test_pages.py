"""Findings pages, the morning-of question and the CISO's deadlines: a unit uploads its SBOM,
an OSV advisory is imported, and the finding shows where each role should see it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership
from actions.models import Action, Directive
from config.versioning import etag_of
from systems import inventory
from systems.models import System
from tests.factories import MembershipFactory
from tests.pages import csv_rows, xlsx_rows
from tests.systems.conftest import register
from tests.vulnerabilities.samples import sample
from vulnerabilities.models import Finding, Priority, RemediationDeadline, Vulnerability
from vulnerabilities.services import advisories

pytestmark = pytest.mark.django_db

LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core"
GHSA = "osv/osvscanner_Maven_GHSA-3pxv-7cmr-fjr4.json"
CVE = "CVE-2026-34480"  # the GHSA's alias: the vulnerability's key
FINDINGS = "/findings/"


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def finding(login_as, bu_member, ciso, system) -> Finding:
    """The unit uploads its SBOM (log4j-core 2.13.2) on the system page; the CISO's office
    imports the OSV advisory for log4j-core below 2.25.4."""
    client = login_as(bu_member)
    with sample("cyclonedx/defectdojo_cdx_nested-component-log4j.json").open("rb") as stream:
        response = client.post(f"/systems/{system.pk}/inventory/sbom/", {"file": stream})
    assert response.status_code == 302
    with sample(GHSA).open("rb") as stream:
        advisories.import_file(actor=ciso, kind="osv", stream=stream, origin=GHSA)
    client.logout()
    return Finding.objects.get(system=system, package=LOG4J)


@pytest.fixture
def other_system(other_unit, other_bu_member) -> System:
    return register(other_unit, "cloud-console", internet_facing=True)


@pytest.fixture
def security_officer(unit) -> object:
    membership = MembershipFactory.create(unit=unit, kind=Membership.Kind.SECURITY_OFFICER)
    return membership.user


def test_the_unit_sees_the_finding_on_the_system_page_and_in_the_list(
    login_as, bu_member, system, finding
):
    client = login_as(bu_member)
    system_page = html(client.get(f"/systems/{system.pk}/"))
    assert f'data-testid="finding-row" data-key="{CVE}" data-state="open"' in system_page
    listed = html(client.get(FINDINGS))
    assert f'data-key="{CVE}"' in listed
    page = client.get(f"/findings/{finding.pk}/")
    assert page.status_code == 200
    text = html(page)
    assert "GHSA-3pxv-7cmr-fjr4" in text  # its alias
    assert "2.25.4" in text  # fixed in
    assert finding.why in text
    # A member who is not the security officer is offered no decision.
    assert 'data-testid="fp-form"' not in text and 'data-testid="accept-form"' not in text


def test_another_units_member_gets_404_on_the_finding(login_as, other_bu_member, finding):
    client = login_as(other_bu_member)
    assert client.get(f"/findings/{finding.pk}/").status_code == 404
    response = client.post(
        f"/findings/{finding.pk}/false-positive/", {"fp-reason": "not ours", "fp-version": "*"}
    )
    assert response.status_code == 404
    assert f'data-key="{CVE}"' not in html(client.get(FINDINGS))
    finding.refresh_from_db()
    assert finding.state == Finding.State.OPEN


def test_the_security_officer_marks_a_false_positive(login_as, security_officer, finding):
    client = login_as(security_officer)
    page = html(client.get(f"/findings/{finding.pk}/"))
    assert 'data-testid="fp-form"' in page
    response = client.post(
        f"/findings/{finding.pk}/false-positive/",
        {"fp-reason": "XmlLayout is not used", "fp-version": etag_of(finding)},
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.state == Finding.State.FALSE_POSITIVE
    assert finding.reason == "XmlLayout is not used"
    assert finding.decided_by == security_officer
    # Set aside, it leaves the default list (open and to review).
    assert f'data-key="{CVE}"' not in html(client.get(FINDINGS))
    assert f'data-key="{CVE}"' in html(client.get(FINDINGS + "?state=false_positive"))


def test_a_decision_on_a_stale_page_is_refused(login_as, security_officer, finding):
    client = login_as(security_officer)
    stale = etag_of(finding)
    Finding.objects.filter(pk=finding.pk).update(updated_at=timezone.now() + dt.timedelta(1))
    response = client.post(
        f"/findings/{finding.pk}/false-positive/", {"fp-reason": "no", "fp-version": stale}
    )
    assert response.status_code == 412
    finding.refresh_from_db()
    assert finding.state == Finding.State.OPEN


def test_a_member_who_posts_anyway_is_refused(login_as, bu_member, finding):
    client = login_as(bu_member)
    response = client.post(
        f"/findings/{finding.pk}/false-positive/",
        {"fp-reason": "no", "fp-version": etag_of(finding)},
    )
    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.state == Finding.State.OPEN


def test_the_ciso_accepts_the_risk_until_a_date_and_a_missing_reason_is_named(
    login_as, ciso, finding
):
    client = login_as(ciso)
    until = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    missing = client.post(
        f"/findings/{finding.pk}/accept/",
        {"accept-until": until, "accept-reason": "", "accept-version": etag_of(finding)},
    )
    assert missing.status_code == 400
    assert 'data-testid="error-reason"' in html(missing)
    response = client.post(
        f"/findings/{finding.pk}/accept/",
        {"accept-until": until, "accept-reason": "Replaced in March", "accept-version": "*"},
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert (finding.state, finding.accepted_until.isoformat()) == (Finding.State.ACCEPTED, until)


def test_filters_and_exports(login_as, ciso, finding):
    client = login_as(ciso)
    assert f'data-key="{CVE}"' in html(client.get(FINDINGS + "?unit=PUBSEC&severity=medium"))
    assert f'data-key="{CVE}"' not in html(client.get(FINDINGS + "?kev=true"))
    assert f'data-key="{CVE}"' not in html(client.get(FINDINGS + "?overdue=true"))
    assert f'data-key="{CVE}"' not in html(client.get(FINDINGS + "?severity=critical"))
    Vulnerability.objects.filter(key=CVE).update(kev=True)
    assert f'data-key="{CVE}"' in html(client.get(FINDINGS + "?kev=true"))
    assert client.get(FINDINGS + "?priority=p9").status_code == 400

    rows = csv_rows(client.get(FINDINGS + "?export=csv&unit=PUBSEC").content)
    assert len(rows) == 2 and rows[1][0] == CVE and rows[1][2] == "cert-issuance"
    assert len(csv_rows(client.get(FINDINGS + "?export=csv&state=fixed").content)) == 1
    sheet = xlsx_rows(client.get(FINDINGS + "?export=xlsx").content)
    assert sheet[1][0] == CVE and sheet[1][4] == "2.13.2"


def _findings(system: System, count: int, start: int) -> None:
    now = timezone.now()
    for n in range(start, start + count):
        vulnerability = Vulnerability.objects.create(key=f"CVE-2026-{n:05d}", severity="high")
        Finding.objects.create(
            system=system,
            vulnerability=vulnerability,
            package=LOG4J,
            version="2.13.2",
            why="test",
            first_seen_at=now,
            opened_at=now,
            due_on=timezone.localdate(),
        )


def test_the_list_costs_the_same_for_1_or_20_findings(
    login_as, ciso, system, django_assert_num_queries
):
    client = login_as(ciso)
    _findings(system, 1, 0)
    client.get(FINDINGS)
    with CaptureQueriesContext(connection) as one:
        assert client.get(FINDINGS).status_code == 200
    _findings(system, 19, 1)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(FINDINGS)
    assert html(response).count('data-testid="finding-row"') == 20


def test_the_morning_of_question_and_its_directive(
    login_as, ciso, bu_member, other_bu_member, system, other_system
):
    inventory.add_components(
        actor=bu_member, system=system, entries=[inventory.Entry("purl", f"{LOG4J}@2.14.1")]
    )
    inventory.add_components(
        actor=other_bu_member,
        system=other_system,
        entries=[inventory.Entry("purl", f"{LOG4J}@2.17.1")],
    )
    client = login_as(ciso)
    question = {"package": LOG4J, "range": ">=2.0|<2.17.1"}
    answer = client.get("/exposure/", question)
    assert answer.status_code == 200
    text = html(answer)
    assert 'data-testid="exposure-row" data-code="cert-issuance"' in text
    assert 'data-code="cloud-console"' not in text
    assert 'data-unit="PUBSEC"' in text and 'data-testid="directive-form"' in text

    bad = client.get("/exposure/", {"package": "log4j", "range": ""})
    assert bad.status_code == 400 and 'data-testid="error-package"' in html(bad)
    bad = client.get("/exposure/", {"package": LOG4J, "range": "<<2"})
    assert bad.status_code == 400 and 'data-testid="error-range"' in html(bad)

    deadline = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    order = {
        **question,
        "title": "Upgrade log4j",
        "body": "To 2.17.1 or later",
        "deadline": deadline,
    }
    asked = client.post("/exposure/directive/", order)
    assert asked.status_code == 200 and 'data-testid="confirm"' in html(asked)
    assert not Directive.objects.exists()
    response = client.post(
        "/exposure/directive/", {**order, "systems": str(system.pk), "confirm": "yes"}
    )
    directive = Directive.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/directives/{directive.pk}/"
    assert directive.status == Directive.Status.ISSUED
    assert directive.criteria == {"systems": [system.pk]}
    assert list(Action.objects.filter(directive=directive).values_list("system_id", flat=True)) == [
        system.pk
    ]


def test_a_member_asks_of_their_own_systems_and_may_not_direct(
    login_as, bu_member, other_bu_member, system, other_system
):
    inventory.add_components(
        actor=other_bu_member,
        system=other_system,
        entries=[inventory.Entry("purl", f"{LOG4J}@2.14.1")],
    )
    client = login_as(bu_member)
    text = html(client.get("/exposure/", {"package": LOG4J, "range": ""}))
    assert 'data-code="cloud-console"' not in text and 'data-testid="directive-form"' not in text
    deadline = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    response = client.post(
        "/exposure/directive/",
        {"package": LOG4J, "title": "x", "body": "y", "deadline": deadline, "confirm": "yes"},
    )
    assert response.status_code == 403
    assert not Directive.objects.exists()


def test_the_ciso_sets_deadlines_and_a_member_may_only_read_them(login_as, ciso, bu_member):
    p1 = RemediationDeadline.objects.get(priority=Priority.P1)
    client = login_as(bu_member)
    read = client.get("/vulnerabilities/deadlines/")
    assert read.status_code == 200 and 'data-testid="deadlines-form"' not in html(read)
    assert client.post("/vulnerabilities/deadlines/", {"p1_days": "1"}).status_code == 403

    client = login_as(ciso)
    form = html(client.get("/vulnerabilities/deadlines/"))
    assert 'data-testid="deadlines-form"' in form
    data = {}
    for deadline in RemediationDeadline.objects.all():
        data[f"{deadline.priority}_days"] = str(deadline.days)
        data[f"{deadline.priority}_version"] = etag_of(deadline)
    data["p1_days"] = "3"
    assert client.post("/vulnerabilities/deadlines/", data).status_code == 302
    p1.refresh_from_db()
    assert (p1.days, p1.updated_by) == (3, ciso)
    data["p1_days"] = "0"
    too_few = client.post("/vulnerabilities/deadlines/", data)
    assert too_few.status_code == 400 and 'data-testid="error-p1_days"' in html(too_few)
