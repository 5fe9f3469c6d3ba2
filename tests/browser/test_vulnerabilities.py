"""Vulnerabilities in Debian's chromium, as people meet them: a unit member uploads an SBOM and
sees the finding appear, uploads the fixed one and sees it close; the CISO asks which systems
run an affected version and directs exactly those."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from actions.models import Action, Directive
from systems.models import System
from tests.browser.test_workflows import csp_violations, shot, signed_in
from tests.systems.conftest import register
from tests.vulnerabilities.conftest import LOG4J_OSV, import_sample, sbom_bytes
from vulnerabilities.models import Finding

pytestmark = pytest.mark.django_db(transaction=True)


def finished(page) -> None:
    """Let the page's own late requests (the top bar's htmx badge) end before the test does:
    one still running when the database is flushed would answer 500 after the test."""
    page.wait_for_load_state("networkidle")
    page.context.close()


def test_a_unit_uploads_an_sbom_sees_the_finding_and_closes_it_with_the_next(
    browser, live_server, ciso, unit, bu_member, tmp_path: Path
):
    system = register(unit, "resident-cert", internet_facing=True, handles_personal_data=True)
    import_sample(ciso, "osv", LOG4J_OSV)
    vulnerable, fixed = tmp_path / "bom.json", tmp_path / "bom-fixed.json"
    vulnerable.write_bytes(sbom_bytes())
    fixed.write_bytes(
        sbom_bytes(**{'"2.13.2"': '"2.25.4"', "log4j-core@2.13.2": "log4j-core@2.25.4"})
    )
    page = signed_in(browser, live_server, bu_member)
    page.goto(f"/systems/{system.pk}/")
    page.set_input_files("[data-testid=sbom-form] input[name=file]", str(vulnerable))
    page.click("[data-testid=sbom-submit]")
    row = page.locator("[data-testid=system-findings] [data-testid=finding-row]")
    row.first.wait_for()
    assert row.count() == 1
    assert row.first.get_attribute("data-key") == "CVE-2026-34480"
    assert row.first.get_attribute("data-state") == "open"
    component = page.locator("[data-testid=component-row]")
    assert component.first.get_attribute("data-version") == "2.13.2"
    shot(page, "vulnerabilities-finding-open")
    finding = Finding.objects.get()
    page.goto(f"/findings/{finding.pk}/")
    assert "GHSA-3pxv-7cmr-fjr4" in page.get_by_test_id("why").inner_text()
    assert finding.action is not None
    assert finding.action.reference in page.get_by_test_id("remediation").inner_text()

    page.goto(f"/systems/{system.pk}/")
    page.set_input_files("[data-testid=sbom-form] input[name=file]", str(fixed))
    page.click("[data-testid=sbom-submit]")
    page.locator("[data-testid=system-findings] [data-testid=no-findings]").wait_for()
    assert page.locator("[data-testid=component-row]").first.get_attribute("data-version") == (
        "2.25.4"
    )
    page.goto(f"/findings/{finding.pk}/")
    assert page.get_by_test_id("finding-state").inner_text() == "Fixed"
    assert "Verified" in page.get_by_test_id("remediation").inner_text()
    shot(page, "vulnerabilities-finding-fixed")
    assert csp_violations(page) == []
    finished(page)


def test_the_ciso_asks_the_morning_of_question_and_directs_exactly_those_systems(
    browser, live_server, ciso, unit, other_unit, bu_member, other_bu_member
):
    from systems import inventory

    affected = register(unit, "resident-cert", internet_facing=True)
    patched = register(unit, "cert-print-batch")
    elsewhere = register(other_unit, "cloud-console")
    for system, version in [(affected, "2.14.1"), (patched, "2.17.1"), (elsewhere, "2.16.0")]:
        member = bu_member if system.unit == unit else other_bu_member
        inventory.add_components(
            actor=member,
            system=system,
            entries=[
                inventory.Entry("purl", f"pkg:maven/org.apache.logging.log4j/log4j-core@{version}")
            ],
        )
    page = signed_in(browser, live_server, ciso)
    page.goto("/exposure/")
    page.fill(
        "[data-testid=exposure-form] input[name=package]",
        "pkg:maven/org.apache.logging.log4j/log4j-core",
    )
    page.fill("[data-testid=exposure-form] input[name=range]", ">=2.0|<2.17.1")
    page.click("[data-testid=exposure-submit]")
    rows = page.locator("[data-testid=exposure-row]")
    rows.first.wait_for()
    assert sorted(rows.nth(i).get_attribute("data-code") for i in range(rows.count())) == [
        "cloud-console",
        "resident-cert",
    ]
    deadline = timezone.localdate() + dt.timedelta(days=7)
    page.fill("[data-testid=directive-form] input[name=title]", "Upgrade log4j-core")
    page.fill("[data-testid=directive-form] textarea[name=body]", "Upgrade to 2.17.1 or later.")
    page.fill("[data-testid=directive-form] input[name=deadline]", deadline.isoformat())
    page.click("[data-testid=directive-submit]")
    page.get_by_test_id("confirm").wait_for()
    shot(page, "exposure-directive-confirm")
    page.click("[data-testid=confirm-submit]")
    page.wait_for_url("**/directives/*/")
    directive = Directive.objects.get()
    assert directive.status == Directive.Status.ISSUED
    tasked = set(Action.objects.filter(directive=directive).values_list("system__code", flat=True))
    assert tasked == {"resident-cert", "cloud-console"}
    assert System.objects.count() == 3
    assert csp_violations(page) == []
    finished(page)
