"""Evidence files are known by their bytes, not by the type or name the client declares: what is
accepted and how it is stored, what is refused (and that nothing is kept then), long names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from actions import services
from actions.models import Action, ActionUpdate, Evidence
from audit.models import AuditEvent
from config import text
from tests.actions import files
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(name: str, content: bytes, declared: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=declared)


def post_api(client: Client, action: Action, *uploads: SimpleUploadedFile) -> Any:
    etag = client.get(f"/api/v1/actions/{action.pk}/")["ETag"]
    return client.post(
        f"/api/v1/actions/{action.pk}/updates/", {"files": list(uploads)}, HTTP_IF_MATCH=etag
    )


def post_page(client: Client, action: Action, *uploads: SimpleUploadedFile) -> Any:
    return client.post(
        reverse("actions:action-update", args=[action.pk]),
        {"version": services.etag(action), "evidence": list(uploads)},
    )


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def assert_nothing_stored(action: Action, media: Path) -> None:
    before = (action.status, action.version, action.percent_done)
    action.refresh_from_db()
    assert (action.status, action.version, action.percent_done) == before
    assert not Evidence.objects.exists()
    assert not ActionUpdate.objects.filter(action=action).exists()
    assert not AuditEvent.objects.filter(verb="action.updated").exists()
    assert stored_files(media) == []


ACCEPTED = [
    # name, content, declared type -> stored name, stored type
    ("mfa-report.pdf", files.PDF, "application/pdf", "mfa-report.pdf", "application/pdf"),
    ("screen.png", files.PNG, "image/png", "screen.png", "image/png"),
    ("photo.JPEG", files.JPEG, "image/jpeg", "photo.jpeg", "image/jpeg"),
    ("photo.jpg", files.JPEG, "image/pjpeg", "photo.jpg", "image/jpeg"),
    ("systems.xlsx", files.XLSX, files.XLSX_TYPE, "systems.xlsx", files.XLSX_TYPE),
    ("memo.docx", files.DOCX, "application/octet-stream", "memo.docx", files.DOCX_TYPE),
    ("notes.txt", files.TEXT, "text/plain", "notes.txt", "text/plain"),
    ("systems.csv", files.CSV, "text/csv", "systems.csv", "text/csv"),
    # Windows browsers with Excel installed declare a CSV file as an Excel sheet.
    ("systems.csv", files.CSV, "application/vnd.ms-excel", "systems.csv", "text/csv"),
    ("systems.CSV", files.CSV, "text/plain", "systems.csv", "text/csv"),
    ("list", files.CSV, "text/csv", "list.csv", "text/csv"),
    ("notes", files.TEXT, "", "notes.txt", "text/plain"),
    # A name without an extension, or in the wrong case, gets the extension of what it is.
    ("scan", files.PNG, "image/png", "scan.png", "image/png"),
    ("SCAN.PNG", files.PNG, "image/png", "SCAN.png", "image/png"),
    ("minutes v1.2", files.PDF, "application/pdf", "minutes v1.2.pdf", "application/pdf"),
    # Text that happens to start like a signature (BMP's "BM") is still text.
    ("bm.txt", b"BMW fleet: 12 cars\n", "text/plain", "bm.txt", "text/plain"),
]


def ids(rows: list[tuple[Any, ...]]) -> list[str]:
    return [f"{row[0]} as {row[2] or 'nothing'}" for row in rows]


@pytest.mark.parametrize(
    ("name", "content", "declared", "shown", "kind"), ACCEPTED, ids=ids(ACCEPTED)
)
def test_an_accepted_file_is_stored_as_what_it_is(
    login_as, bu_member, action, media, name, content, declared, shown, kind
):
    response = post_api(login_as(bu_member), action, upload(name, content, declared))
    assert response.status_code == 201, response.json()
    assert response.json()["evidence"][0] | {"id": 0} == {
        "id": 0,
        "name": shown,
        "size": len(content),
        "content_type": kind,
        "sha256": Evidence.objects.get().sha256,
    }
    stored = Evidence.objects.get()
    assert (stored.name, stored.content_type) == (shown, kind)
    assert stored.file.read() == content
    [on_disk] = stored_files(media)
    assert on_disk.suffix == "." + shown.rsplit(".", 1)[1]  # the extension of what it is


REFUSED = [
    # name, content, declared type, what the refusal says
    ("tool.exe", files.EXE, "application/x-msdownload", "is not an accepted evidence type"),
    ("report.pdf", files.EXE, "application/pdf", "application/x-msdownload is not an accepted"),
    ("report.pdf", files.ZIP, "application/pdf", "application/zip is not an accepted"),
    ("report.pdf", files.HTML, "application/pdf", "sent as application/pdf, but the file is"),
    ("page.html", files.HTML, "text/html", "sent as text/html, but the file is text/plain"),
    ("page.html", files.HTML, "text/plain", "named .html, but the file is text/plain"),
    ("report.pdf", files.PNG, "application/pdf", "sent as application/pdf, but the file is"),
    ("report.pdf", files.PNG, "application/octet-stream", "named .pdf, but the file is image/png"),
    ("scan.PDF", files.PNG, "", "named .pdf, but the file is image/png"),
    ("sheet.xlsx", files.DOCX, files.XLSX_TYPE, "sent as application/vnd.openxmlformats"),
    ("memo.docx", files.ZIP, files.DOCX_TYPE, "application/zip is not an accepted"),
    ("notes.txt", b"MFA\x00on\n", "text/plain", "its content is not of an accepted"),
    ("notes.txt", b"MFA \x1b[31mon\n", "text/plain", "its content is not of an accepted"),
    ("notes.txt", "山田の報告".encode("shift_jis"), "text/plain", "its content is not of an"),
    ("notes.txt", files.TEXT, "application/pdf", "sent as application/pdf, but the file is"),
    ("report.pdf", files.PDF, "application/vnd.ms-excel", "sent as application/vnd.ms-excel"),
]


@pytest.mark.parametrize(("name", "content", "declared", "says"), REFUSED, ids=ids(REFUSED))
def test_a_mismatch_is_refused_through_the_api_and_nothing_is_kept(
    login_as, bu_member, action, media, name, content, declared, says
):
    response = post_api(login_as(bu_member), action, upload(name, content, declared))
    assert response.status_code == 400
    [message] = response.json()["files"]
    assert message.startswith(f"{name}: ") and says in message, message
    assert_nothing_stored(action, media)


@pytest.mark.parametrize(("name", "content", "declared", "says"), REFUSED[:8], ids=ids(REFUSED[:8]))
def test_a_mismatch_is_refused_on_the_page_and_nothing_is_kept(
    bu_member, action, media, name, content, declared, says
):
    response = post_page(sign_in(Client(), bu_member), action, upload(name, content, declared))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-evidence"' in html
    assert f"{name}: " in html and says.replace("'", "&#x27;") in html
    assert_nothing_stored(action, media)


def test_one_bad_file_refuses_the_whole_update(login_as, bu_member, action, media):
    good = upload("mfa-report.pdf", files.PDF, "application/pdf")
    bad = upload("scan.pdf", files.PNG, "application/pdf")
    response = post_api(login_as(bu_member), action, good, bad)
    assert response.status_code == 400
    assert response.json()["files"][0].startswith("scan.pdf: ")
    assert_nothing_stored(action, media)


def test_an_empty_file_is_refused_by_the_service(bu_member, action, media):
    with pytest.raises(ValidationError) as refused:
        services.add_update(
            actor=bu_member, action=action, files=[upload("empty.txt", b"", "text/plain")]
        )
    assert refused.value.message_dict == {"files": ["empty.txt: the file is empty."]}
    assert_nothing_stored(action, media)


def test_only_the_configured_types_are_accepted(settings, login_as, bu_member, action, media):
    settings.EVIDENCE_CONTENT_TYPES = ["application/pdf"]
    response = post_api(login_as(bu_member), action, upload("notes.txt", files.TEXT, "text/plain"))
    assert response.status_code == 400
    assert "text/plain is not an accepted evidence type" in response.json()["files"][0]
    assert_nothing_stored(action, media)


LONG_NAMES = [
    "a" * 300 + ".pdf",
    "𠮷" * 200 + ".pdf",  # four bytes each in UTF-8: far past a disk's 255-byte file names
    "report" + ".v1" * 100 + ".pdf",  # many dots: storage treats them all as the extension
    "%%%.pdf",  # nothing a disk name may keep
    "a" * 300,  # no extension, and one to add
]


@pytest.mark.parametrize("name", LONG_NAMES)
def test_an_awkward_name_is_stored_shortened_through_the_api(
    login_as, bu_member, action, media, name
):
    client = login_as(bu_member)
    response = post_api(client, action, upload(name, files.PDF, "application/pdf"))
    assert response.status_code == 201, response.content
    stored = Evidence.objects.get()
    assert len(stored.name) <= text.max_length(Evidence, "name")
    assert stored.name.endswith(".pdf") and stored.name[:10] == name[:10]
    assert response.json()["evidence"][0]["name"] == stored.name
    download = client.get(reverse("actions:evidence", args=[action.pk, stored.pk]))
    assert download.status_code == 200
    assert download.getvalue() == files.PDF


@pytest.mark.parametrize("name", LONG_NAMES)
def test_an_awkward_name_is_stored_shortened_through_the_page(bu_member, action, media, name):
    client = sign_in(Client(), bu_member)
    response = post_page(client, action, upload(name, files.PDF, "application/pdf"))
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = Evidence.objects.get()
    assert len(stored.name) <= text.max_length(Evidence, "name")
    assert stored.name.endswith(".pdf") and stored.content_type == "application/pdf"
    assert client.get(reverse("actions:action", args=[action.pk])).status_code == 200
    download = client.get(reverse("actions:evidence", args=[action.pk, stored.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"


def test_a_name_past_the_upload_header_limit_is_a_400_not_a_500(bu_member, action, media):
    """Django reads at most 1 KiB of a part's headers: 300 four-byte characters are past it."""
    name = "𠮷" * 300 + ".pdf"
    client = sign_in(Client(), bu_member)
    client.raise_request_exception = False
    assert post_api(client, action, upload(name, files.PDF, "application/pdf")).status_code == 400
    assert post_page(client, action, upload(name, files.PDF, "application/pdf")).status_code == 400
    assert_nothing_stored(action, media)


def test_a_download_is_sent_as_the_type_the_content_is(bu_member, action, media):
    services.add_update(
        actor=bu_member, action=action, files=[upload("scan", files.PNG, "image/png")]
    )
    stored = Evidence.objects.get()
    client = sign_in(Client(), bu_member)
    download = client.get(reverse("actions:evidence", args=[action.pk, stored.pk]))
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == 'attachment; filename="scan.png"'


def test_a_file_kept_under_a_declared_type_downloads_as_bytes(bu_member, action, media):
    """A row from before types were read from the content keeps what the client declared: a
    type not accepted as evidence (text/html here) is never what the download says it is."""
    services.add_update(
        actor=bu_member, action=action, files=[upload("page.txt", files.TEXT, "text/plain")]
    )
    Evidence.objects.update(content_type="text/html", name="page.html")
    stored = Evidence.objects.get()
    download = sign_in(Client(), bu_member).get(
        reverse("actions:evidence", args=[action.pk, stored.pk])
    )
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
