"""Scanner reports in Debian's chromium: a unit's big Trivy report is imported by a real Celery
worker while its page shows the progress; the CISO's nmap scan finds an address nobody
registered, which the CISO assigns to a unit from its page."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from bench.scans import write_trivy
from tests.browser.test_vulnerabilities import finished
from tests.browser.test_workflows import csp_violations, shot, signed_in
from tests.config.test_celery_worker import celery_worker
from tests.conftest import require_service, service_reachable
from tests.systems.conftest import register
from tests.vulnerabilities.samples import sample
from vulnerabilities import tasks
from vulnerabilities.models import DiscoveredAsset, Finding, Scan
from vulnerabilities.tasks import import_scan

pytestmark = pytest.mark.django_db(transaction=True)

FINDINGS = 6000  # about 4.5 MB of Trivy JSON: a few seconds of import, several progress notes
PACKAGES = 300
NMAP = "nmap/libnmap_2_hosts_version.xml"
SCANME = "74.207.244.221"  # the nmap sample's host on the internet


class _OnQueue:
    """`import_scan` as receive() calls it (`.delay`), sent to this test's own queue, so the
    worker takes no message an earlier test left on the default one."""

    def __init__(self, queue: str) -> None:
        self.queue = queue

    def delay(self, *args: Any) -> Any:
        return import_scan.apply_async(args=args, queue=self.queue)


# What the scan's page shows of the import, read in the page itself: the state of the progress
# box (absent once the page shows the result), the bar's value and how much of it is drawn
# filled (a <progress> draws its value; a styled bar, the width its style gives it, unless the
# Content Security Policy refused that style), the state in the heading.
READ_PROGRESS = """() => {
  const box = document.querySelector("[data-testid=scan-progress]");
  const bar = box && box.querySelector("progress, [role=progressbar]");
  let percent = null, drawn = null;
  if (bar && bar.tagName === "PROGRESS") {
    percent = Math.round(100 * bar.value / bar.max);
    drawn = percent;
  } else if (bar) {
    percent = Number(bar.getAttribute("aria-valuenow"));
    const fill = bar.querySelector(".progress-bar");
    const whole = bar.getBoundingClientRect().width;
    drawn = fill && whole ? Math.round(100 * fill.getBoundingClientRect().width / whole) : 0;
  }
  const badge = document.querySelector("h1 [data-testid=scan-state]");
  return {
    state: box ? box.dataset.state : null,
    percent: percent,
    drawn: drawn,
    heading: badge ? badge.textContent.trim() : null,
    found: document.querySelector("[data-testid=scan-found]") !== null,
  };
}"""


def follow_import(page: Any, worker: Any, timeout: float = 120) -> list[dict[str, Any]]:
    """What the scan's page showed, read every 50 ms, until it shows what the scan found (the
    page reloads itself when the import ends: nobody reloads it here)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            now = page.evaluate(READ_PROGRESS)
        except PlaywrightError:  # the page is reloading
            now = None
        if now is not None:
            if not seen or now != seen[-1]:
                seen.append(now)
            if now["found"]:
                return seen
        if worker.poll() is not None:
            output = worker.stdout.read() if worker.stdout else ""
            pytest.fail(f"the worker exited early:\n{output}")
        page.wait_for_timeout(50)
    worker.terminate()
    output = worker.communicate(timeout=20)[0]
    pytest.fail(f"the page never showed the result; it showed {seen}; worker said:\n{output}")


# A real worker process: `--dist loadgroup` (make test) runs the group on one xdist worker.
@pytest.mark.xdist_group("processes")
def test_a_units_big_report_is_imported_by_a_worker_while_its_page_shows_the_progress(
    browser, live_server, settings, monkeypatch, unit, bu_member, tmp_path: Path
):
    broker: str = django_settings.CELERY_BROKER_URL
    if not broker.startswith("filesystem"):
        require_service("the Celery broker", service_reachable(broker, 6379))
    system = register(unit, "resident-cert", internet_facing=True)
    report = tmp_path / "resident-cert-image.json"
    size = write_trivy(report, findings=FINDINGS, packages=PACKAGES, created_at=timezone.now())
    settings.SCAN_INLINE_BYTES = 64 * 1024  # far below the report: it goes to the worker
    assert size > 4 * 1024 * 1024  # several progress notes (one a MiB read, over two passes)
    queue = f"scans-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(tasks, "import_scan", _OnQueue(queue))

    page = signed_in(browser, live_server, bu_member)
    with celery_worker(queue, broker) as worker:
        page.goto("/scans/")
        form = page.get_by_test_id("upload-form")
        form.locator("input[name=file]").set_input_files(str(report))
        form.locator("select[name=system]").select_option(str(system.pk))
        with page.expect_navigation(url=lambda url: "/scans/" in url and url[-1] == "/"):
            page.click("[data-testid=upload-form-submit]")
        scan = Scan.objects.get()
        assert page.url.endswith(f"/scans/{scan.pk}/")
        assert "queued" in page.locator("main").inner_text()  # "The report is queued; …"
        seen = follow_import(page, worker)
    first = seen[0]
    assert first["state"] in {"queued", "running"}, seen
    assert first["heading"] in {"Queued", "Importing"}, seen
    states = [row["state"] for row in seen]
    percents = [row["percent"] for row in seen if row["percent"] is not None]
    # The bar moved while the worker read the file: a value strictly between 0 and 100.
    assert "running" in states, seen
    assert any(0 < value < 100 for value in percents), seen
    assert percents == sorted(percents), seen  # it never went back
    # … and people see it: the bar is drawn as full as it says.
    assert all(abs(row["drawn"] - row["percent"]) <= 5 for row in seen if row["percent"]), seen
    last = seen[-1]
    assert last["heading"] == "Imported" and last["state"] is None, seen
    page.wait_for_load_state("networkidle")

    scan.refresh_from_db()
    assert scan.state == Scan.State.DONE, (scan.error, scan.error_where)
    assert scan.counts["new"] == FINDINGS
    assert Finding.objects.filter(system=system).count() == FINDINGS
    assert page.get_by_test_id("scan-tool").inner_text().startswith("Trivy")
    new = page.get_by_test_id("found-new-link")
    assert new.inner_text() == str(FINDINGS)
    assert page.get_by_test_id("found-closed-link").inner_text() == "0"
    assert page.get_by_test_id("covered-placed").inner_text() == "1"  # the image
    shot(page, "scan-imported-by-worker")
    with page.expect_navigation():
        new.click()
    assert f"scan={scan.pk}" in page.url and "outcome=new" in page.url
    assert page.get_by_test_id("result-count").inner_text() == f"{FINDINGS} findings"
    rows = page.locator("[data-testid=finding-row]")
    assert rows.count() == 50  # the first page of them
    assert all(
        (rows.nth(i).get_attribute("data-key") or "").startswith("CVE-2099-") for i in range(50)
    )
    assert csp_violations(page) == []
    finished(page)


def test_the_ciso_uploads_an_nmap_scan_and_assigns_the_stranger_it_found_to_a_unit(
    browser, live_server, ciso, unit, other_unit
):
    page = signed_in(browser, live_server, ciso)
    page.goto("/scans/")
    form = page.get_by_test_id("upload-form")
    form.locator("input[name=file]").set_input_files(str(sample(NMAP)))
    assert form.locator("select[name=system]").input_value() == ""  # no system: by addresses
    with page.expect_navigation():
        page.click("[data-testid=upload-form-submit]")
    scan = Scan.objects.get()
    assert page.url.endswith(f"/scans/{scan.pk}/")
    assert page.locator("h1 [data-testid=scan-state]").inner_text() == "Imported"
    assert page.get_by_test_id("scan-progress").count() == 0  # imported at once, no polling
    assets = DiscoveredAsset.objects.count()
    assert assets >= 1
    assert page.get_by_test_id("found-assets_new").locator("a").inner_text() == str(assets)

    page.goto("/scans/")
    with page.expect_navigation():
        page.click("[data-testid=surface-link]")
    row = page.locator(
        f"[data-testid=asset-queue] [data-testid=asset-row][data-address='{SCANME}']"
    )
    assert row.count() == 1
    assert row.get_attribute("data-state") == "new"
    assert "scanme.nmap.org" in row.inner_text()
    shot(page, "attack-surface-stranger")
    with page.expect_navigation():
        row.get_by_role("link", name=SCANME).click()
    asset = DiscoveredAsset.objects.get(address=SCANME)
    assert page.url.endswith(f"/discovered-assets/{asset.pk}/")
    assert page.get_by_test_id("asset-state").inner_text() == "New"
    assert page.get_by_test_id("asset-unit").inner_text() == "—"
    assert page.locator("[data-testid=service-row][data-port='tcp/22']").count() == 1

    assign = page.get_by_test_id("assign-form")
    assign.locator("select[name=assign-unit]").select_option(unit.code)
    assign.locator("textarea[name=assign-note]").fill("The certificate team's scan target.")
    with page.expect_navigation():
        page.click("[data-testid=assign-form-submit]")
    assert page.url.endswith(f"/discovered-assets/{asset.pk}/")
    assert page.get_by_test_id("asset-state").inner_text() == "Assigned to a unit"
    assert page.get_by_test_id("asset-unit").inner_text().startswith(unit.code)
    assert "certificate team" in page.get_by_test_id("asset-note").inner_text()
    assert "The asset is assigned to the unit." in page.locator("main").inner_text()
    assert page.get_by_test_id("assign-form").count() == 1  # may still be sent to another unit
    asset.refresh_from_db()
    assert asset.state == DiscoveredAsset.State.ASSIGNED and asset.unit == unit
    shot(page, "discovered-asset-assigned")

    page.goto("/attack-surface/")
    row = page.locator(
        f"[data-testid=asset-queue] [data-testid=asset-row][data-address='{SCANME}']"
    )
    assert row.get_attribute("data-state") == "assigned"
    assert unit.code in row.inner_text()
    assert csp_violations(page) == []
    finished(page)
