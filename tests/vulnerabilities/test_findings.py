"""Findings end to end through the services: SBOMs and feeds in, findings and work out."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from actions.models import Action, Notification
from outbox.models import Message
from systems import inventory
from systems.models import Component
from tests.vulnerabilities.conftest import (
    LOG4J_OSV,
    import_bytes,
    import_sample,
    sbom_bytes,
)
from tests.vulnerabilities.samples import sample
from vulnerabilities.models import Advisory, FeedImport, Finding, Vulnerability
from vulnerabilities.services import findings as findings_service
from vulnerabilities.tasks import tell_ciso_of_exploited

pytestmark = pytest.mark.django_db(transaction=False)

F = Finding.State


def upload(actor, system, data: bytes):
    return inventory.upload_sbom(
        actor=actor, system=system, stream=io.BytesIO(data), size=len(data)
    )


def test_an_sbom_upload_finds_log4j_and_tasks_the_unit(ciso, bu_member, system) -> None:
    import_sample(ciso, "osv", LOG4J_OSV)
    _upload, change = upload(bu_member, system, sbom_bytes())
    assert change.added == 1
    finding = Finding.objects.get()
    assert finding.system == system and finding.state == F.OPEN
    assert finding.package == "pkg:maven/org.apache.logging.log4j/log4j-core"
    assert finding.version == "2.13.2"
    assert finding.vulnerability.key == "CVE-2026-34480"
    assert "GHSA-3pxv-7cmr-fjr4" in finding.why and "introduced 2.0-alpha1" in finding.why
    assert finding.fixed_in == "2.25.4"
    assert finding.due_on is not None and finding.due_on >= timezone.localdate()
    action = finding.action
    assert action is not None and action.unit == system.unit and action.system == system
    assert action.title == "Upgrade log4j-core 2.13.2 to 2.25.4 on cert-issuance"
    assert action.issued_office == "CISO" and action.issued_by == ciso


def test_a_new_sbom_past_the_fix_closes_the_finding_and_verifies_the_work(
    ciso, bu_member, system
) -> None:
    import_sample(ciso, "osv", LOG4J_OSV)
    upload(bu_member, system, sbom_bytes())
    action = Finding.objects.get().action
    _upload, change = upload(
        bu_member,
        system,
        sbom_bytes(**{'"2.13.2"': '"2.25.4"', "log4j-core@2.13.2": "log4j-core@2.25.4"}),
    )
    assert (change.added, change.removed) == (1, 1)
    finding = Finding.objects.get()
    assert finding.state == F.FIXED and finding.fixed_at is not None
    assert action is not None
    action.refresh_from_db()
    assert action.status == Action.Status.VERIFIED
    # history is kept: the old entry stays, stamped removed
    assert Component.objects.filter(system=system, removed_at__isnull=False).count() == 1
    # the old version comes back: the finding reopens, with new work
    upload(bu_member, system, sbom_bytes())
    finding.refresh_from_db()
    assert finding.state == F.OPEN and finding.reopened == 1
    assert finding.action is not None and finding.action != action


def test_an_advisory_imported_later_matches_the_inventory_already_there(
    ciso, bu_member, system
) -> None:
    upload(bu_member, system, sbom_bytes())
    assert not Finding.objects.exists()
    feed = import_sample(ciso, "osv", LOG4J_OSV)
    assert feed.counts["findings"] == {"opened": 1}
    assert Finding.objects.get().system == system
    # the same file again changes nothing
    again = import_sample(ciso, "osv", LOG4J_OSV)
    assert again.counts["unchanged"] == 1 and again.counts["findings"] == {}


def test_aliases_make_one_vulnerability_and_one_finding(ciso, bu_member, system) -> None:
    inventory.add_components(
        actor=bu_member,
        system=system,
        entries=[inventory.Entry("purl", "pkg:pypi/Django@3.2.1")],
    )
    import_sample(ciso, "osv", "osv/osvscanner_PyPI_PYSEC-2021-98.json")
    record = json.loads(sample("osv/osvscanner_PyPI_PYSEC-2021-98.json").read_bytes())
    record["id"], record["aliases"] = "GHSA-68w8-qjq3-2gfm", ["CVE-2021-33203"]
    import_bytes(ciso, "osv", json.dumps(record).encode())
    assert Advisory.objects.count() == 2
    assert Vulnerability.objects.count() == 1
    assert Vulnerability.objects.get().key == "CVE-2021-33203"
    finding = Finding.objects.get()
    assert finding.version == "3.2.1" and finding.fixed_in == "3.2.4"


def test_versions_compare_by_the_ecosystem_rules(ciso, bu_member, system) -> None:
    inventory.add_components(
        actor=bu_member,
        system=system,
        entries=[
            inventory.Entry("purl", "pkg:pypi/django@3.2.4"),  # the fix itself
            inventory.Entry("purl", "pkg:npm/ansi-html@0.0.7"),
        ],
    )
    import_sample(ciso, "osv", "osv/osvscanner_PyPI_PYSEC-2021-98.json")
    import_sample(ciso, "osv", "osv/osvscanner_npm_GHSA-whgm-jr23-g3j9.json")
    assert [f.package for f in Finding.objects.all()] == ["pkg:npm/ansi-html"]


def test_a_withdrawn_advisory_withdraws_its_findings(ciso, bu_member, system) -> None:
    inventory.add_components(
        actor=bu_member,
        system=system,
        entries=[
            inventory.Entry(
                "purl", "pkg:maven/org.springframework.security.oauth/spring-security-oauth@2.0.1"
            )
        ],
    )
    record = json.loads(sample("osv/dtrack_osv-withdrawn.json").read_bytes())
    del record["withdrawn"]
    record["modified"] = "2020-01-01T00:00:00Z"
    import_bytes(ciso, "osv", json.dumps(record).encode())
    finding = Finding.objects.get()
    assert finding.state == F.OPEN
    import_sample(ciso, "osv", "osv/dtrack_osv-withdrawn.json")
    finding.refresh_from_db()
    assert finding.state == F.WITHDRAWN
    assert finding.action is not None and finding.action.status == Action.Status.CANCELLED


def test_kev_listing_makes_it_p1_due_at_kev_date_and_tells_the_ciso(
    ciso, bu_member, system
) -> None:
    ciso.email = "ciso@example.com"
    ciso.save()
    record = json.loads(sample(LOG4J_OSV).read_bytes())
    record["aliases"] = ["CVE-2021-44228"]
    record["severity"] = [
        {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}
    ]
    import_bytes(ciso, "osv", json.dumps(record).encode())
    upload(bu_member, system, sbom_bytes())
    finding = Finding.objects.get()
    assert (finding.severity, finding.priority) == ("critical", "p1")
    assert not Notification.objects.exists()
    import_sample(None, "kev", "kev/cisa_kev_slice.json")
    finding.refresh_from_db()
    assert finding.vulnerability.kev is True
    assert finding.due_on == dt.date(2021, 12, 24)  # KEV's date is earlier than 7 days
    owed = Message.objects.get(task=tell_ciso_of_exploited.name)  # relayed after commit
    assert owed.args == [finding.pk]
    assert tell_ciso_of_exploited(finding.pk) == 1
    assert tell_ciso_of_exploited(finding.pk) == 0  # once
    notice = Notification.objects.get()
    assert notice.recipient == ciso and notice.action == finding.action
    sent = [m for m in mail.outbox if "ciso@example.com" in m.to]
    assert sent and "CVE-2021-44228" in sent[0].body and "suspend" in sent[0].body


def test_false_positive_by_security_officer_and_not_a_plain_member(
    ciso, bu_member, security_officer, system
) -> None:
    import_sample(ciso, "osv", LOG4J_OSV)
    upload(bu_member, system, sbom_bytes())
    finding = Finding.objects.get()
    with pytest.raises(PermissionDenied):
        findings_service.mark_false_positive(actor=bu_member, finding=finding, reason="no JNDI")
    with pytest.raises(ValidationError):
        findings_service.mark_false_positive(actor=security_officer, finding=finding, reason=" ")
    findings_service.mark_false_positive(
        actor=security_officer, finding=finding, reason="the vulnerable class is removed"
    )
    finding.refresh_from_db()
    assert finding.state == F.FALSE_POSITIVE and finding.decided_by == security_officer
    assert finding.action is not None and finding.action.status == Action.Status.CANCELLED
    # it stays set aside while it still matches
    upload(bu_member, system, sbom_bytes())
    finding.refresh_from_db()
    assert finding.state == F.FALSE_POSITIVE


def test_the_ciso_accepts_a_risk_until_a_date_and_it_reopens_after(ciso, bu_member, system) -> None:
    import_sample(ciso, "osv", LOG4J_OSV)
    upload(bu_member, system, sbom_bytes())
    finding = Finding.objects.get()
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):
        findings_service.accept_risk(
            actor=bu_member, finding=finding, until=today + dt.timedelta(days=30), reason="x"
        )
    with pytest.raises(ValidationError) as refused:
        findings_service.accept_risk(actor=ciso, finding=finding, until=today, reason="x")
    assert "until" in refused.value.message_dict
    findings_service.accept_risk(
        actor=ciso, finding=finding, until=today + dt.timedelta(days=30), reason="vendor patch due"
    )
    finding.refresh_from_db()
    assert finding.state == F.ACCEPTED
    assert findings_service.reopen_expired_acceptances(today=today + dt.timedelta(days=30)) == 0
    assert findings_service.reopen_expired_acceptances(today=today + dt.timedelta(days=31)) == 1
    finding.refresh_from_db()
    assert finding.state == F.OPEN and finding.reopened == 1
    assert finding.action is not None and finding.action.status == Action.Status.OPEN


def test_a_cpe_advisory_for_every_version_is_an_item_to_review(ciso, bu_member, system) -> None:
    inventory.add_components(
        actor=bu_member,
        system=system,
        entries=[inventory.Entry("cpe", "cpe:2.3:a:gitlab:gitlab:15.1.0:*:*:*:community:*:*:*")],
    )
    cve = json.loads(sample("nvd/dtrack_cve-2022-1954.json").read_bytes())
    import_bytes(ciso, "nvd", json.dumps(cve).encode())
    finding = Finding.objects.get()
    assert finding.state == F.OPEN  # 15.1.0 is named exactly
    assert "15.1.0" in finding.why


def test_a_truncated_feed_changes_nothing_and_says_where(ciso) -> None:
    data = sample(LOG4J_OSV).read_bytes()
    with pytest.raises(ValidationError) as refused:
        import_bytes(ciso, "osv", data[: len(data) // 2], origin="half.json")
    assert "half.json" in str(refused.value)
    assert not Advisory.objects.exists() and not Vulnerability.objects.exists()
    assert FeedImport.objects.get().outcome == FeedImport.Outcome.REFUSED


def test_only_the_ciso_office_or_an_admin_imports(bu_member) -> None:
    with pytest.raises(PermissionDenied):
        import_sample(bu_member, "osv", LOG4J_OSV)
    assert not FeedImport.objects.exists()


def test_a_bad_purl_is_refused_naming_the_entry(bu_member, system) -> None:
    with pytest.raises(ValidationError) as refused:
        inventory.add_components(
            actor=bu_member,
            system=system,
            entries=[
                inventory.Entry("purl", "pkg:pypi/django@3.2.1"),
                inventory.Entry("purl", "pkg:/nope@1"),
            ],
        )
    assert list(refused.value.message_dict) == ["components[1]"]
    assert not Component.objects.exists()


def test_other_units_cannot_keep_the_inventory(other_bu_member, system) -> None:
    with pytest.raises(PermissionDenied):
        inventory.add_components(
            actor=other_bu_member,
            system=system,
            entries=[inventory.Entry("purl", "pkg:pypi/django@3.2.1")],
        )


def test_a_full_rematch_finds_what_incremental_matching_found(ciso, bu_member, system) -> None:
    import_sample(ciso, "osv", LOG4J_OSV)
    upload(bu_member, system, sbom_bytes())
    inventory.add_components(
        actor=bu_member, system=system, entries=[inventory.Entry("purl", "pkg:npm/ansi-html@0.0.7")]
    )
    import_sample(ciso, "osv", "osv/osvscanner_npm_GHSA-whgm-jr23-g3j9.json")
    before = list(Finding.objects.order_by("pk").values_list("pk", "state", "version_number"))
    assert len(before) == 2
    outcome = findings_service.rematch_all(actor=None)
    assert dict(outcome.counts) == {}
    assert (
        list(Finding.objects.order_by("pk").values_list("pk", "state", "version_number")) == before
    )
    # a finding lost by hand is found again
    Finding.objects.filter(package="pkg:npm/ansi-html").update(state=F.FIXED)
    assert dict(findings_service.rematch_all(actor=None).counts) == {"reopened": 1}


def test_matching_falls_back_to_the_starting_deadlines_without_their_rows(
    ciso, bu_member, system
) -> None:
    """A database emptied by hand (or by a test that flushes it) has no deadline rows: a
    finding still gets the days the product starts with, never a server error."""
    from vulnerabilities.models import RemediationDeadline

    RemediationDeadline.objects.all().delete()
    import_sample(ciso, "osv", LOG4J_OSV)
    upload(bu_member, system, sbom_bytes())
    finding = Finding.objects.get()
    days = RemediationDeadline.DEFAULT_DAYS[finding.priority]
    assert finding.due_on == timezone.localdate() + dt.timedelta(days=days)
