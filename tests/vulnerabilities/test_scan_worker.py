"""A report too big to import in the request is imported by a real Celery worker process."""

from __future__ import annotations

import subprocess
import time
import uuid
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.config.test_celery_worker import celery_worker
from tests.conftest import require_service, service_reachable, sign_in
from tests.vulnerabilities.samples import sample
from vulnerabilities import tasks
from vulnerabilities.models import Finding, Scan, Sighting
from vulnerabilities.tasks import import_scan

# Real processes: `--dist loadgroup` (make test) runs the group on one xdist worker, in turn.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]

JSON = {"Accept": "application/json"}
TRIVY_PIP = "trivy/trivy_pip.json"


class _OnQueue:
    """`import_scan` as receive() calls it (`.delay`), sent to this test's own queue, so the
    worker takes no message an earlier test left on the default one."""

    def __init__(self, queue: str) -> None:
        self.queue = queue

    def delay(self, *args: Any) -> Any:
        return import_scan.apply_async(args=args, queue=self.queue)


@pytest.fixture
def broker() -> str:
    url: str = django_settings.CELERY_BROKER_URL
    if not url.startswith("filesystem"):
        require_service("the Celery broker", service_reachable(url, 6379))
    return url


def wait_for_import(
    client: Client, location: str, worker: subprocess.Popen[str], timeout: float = 90
) -> dict[str, Any]:
    """The scan as the API shows it once the worker has imported or refused it."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = client.get(location, headers=JSON).json()
        if body["state"] in {"done", "refused"}:
            return body
        if worker.poll() is not None:
            output = worker.stdout.read() if worker.stdout else ""
            pytest.fail(f"the worker exited early:\n{output}")
        time.sleep(0.2)
    worker.terminate()
    output = worker.communicate(timeout=20)[0]
    pytest.fail(f"scan still {body.get('state')} after {timeout}s; worker said:\n{output}")


def test_a_queued_upload_is_imported_by_a_worker(broker, settings, monkeypatch, bu_member, system):
    settings.SCAN_INLINE_BYTES = 0  # every report goes to the worker
    queue = f"scans-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(tasks, "import_scan", _OnQueue(queue))
    client = sign_in(Client(), bu_member)
    with celery_worker(queue, broker) as worker:
        response = client.post(
            "/api/v1/scans/",
            {
                "file": SimpleUploadedFile("pip.json", sample(TRIVY_PIP).read_bytes()),
                "system": system.pk,
            },
            headers=JSON,
        )
        assert response.status_code == 202, response.content
        assert response.json()["state"] == "queued"
        assert not Finding.objects.exists()  # nothing until the worker reads it
        body = wait_for_import(client, response["Location"], worker)
    assert body["state"] == "done", (body["error"], body["error_where"])
    assert body["tool"].startswith("Trivy") and body["imported_at"]
    assert body["progress"] == body["size"]
    assert body["counts"]["new"] == 2
    found = client.get("/api/v1/findings/", {"scan": body["id"]}, headers=JSON).json()
    assert sorted((row["vulnerability"], row["system"]) for row in found["results"]) == [
        ("CVE-2019-14806", system.pk),
        ("CVE-2020-28724", system.pk),
    ]
    scan = Scan.objects.get(pk=body["id"])
    assert Sighting.objects.filter(scan=scan).count() == 2
