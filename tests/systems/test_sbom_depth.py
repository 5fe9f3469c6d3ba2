"""An SBOM nested past any BOM's depth is refused, saying so, before its walk gets slow.

The walk keeps the path of every value and copies it for each event: 100,000 "[" would cost
billions of steps. The inputs here stay at 5,000 levels (a fraction of a second without the
limit), so that a regression fails an assertion rather than hanging.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from systems.models import Component, SbomUpload
from systems.sbom import JSON_MAX_DEPTH, SbomError, read_cyclonedx
from tests.vulnerabilities.samples import sample

NESTED = "cyclonedx/defectdojo_cdx_nested-component-log4j.json"
DEEP = 5_000


def nested(levels: int) -> bytes:
    """A JSON value `levels` deep: arrays around an object holding a string of brackets."""
    return b"[" * (levels - 1) + b'{"note": "[[{{ \\" ]]"}' + b"]" * (levels - 1)


def with_member(value: bytes) -> bytes:
    """The log4j BOM with a first member "x-extra" holding `value`, one level below the top."""
    raw = sample(NESTED).read_bytes()
    start = raw.index(b"{")
    return raw[: start + 1] + b'"x-extra": ' + value + b", " + raw[start + 1 :]


def read(raw: bytes):
    return read_cyclonedx(io.BytesIO(raw))


def test_the_limit_is_100_levels_exactly():
    assert JSON_MAX_DEPTH == 100
    assert read(with_member(nested(99))).entries  # 100 levels in all
    with pytest.raises(SbomError) as caught:
        read(with_member(nested(100)))
    assert caught.value.message == (
        "The JSON is nested more than 100 levels deep: no CycloneDX BOM is nested that deeply."
    )
    assert caught.value.where.startswith("near byte ")


def test_a_deep_bom_is_refused():
    with pytest.raises(SbomError) as caught:
        read(with_member(nested(DEEP)))
    assert "more than 100 levels deep" in caught.value.message
    bare = b'{"bomFormat": "CycloneDX", "components": ' + b"[" * DEEP + b"]" * DEEP + b"}"
    with pytest.raises(SbomError) as caught:
        read(bare)
    assert "more than 100 levels deep" in caught.value.message


def test_deeply_nested_components_within_the_limit_are_read():
    """Components inside components, 45 deep (91 levels with the top object and the lists)."""
    component: dict = {"type": "library", "name": "leaf", "purl": "pkg:pypi/leaf@1.0"}
    for depth in range(44):
        component = {
            "type": "library",
            "name": f"c{depth}",
            "purl": f"pkg:pypi/c{depth}@1.0",
            "components": [component],
        }
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [component]}
    entries = read(json.dumps(bom).encode()).entries
    assert len(entries) == 45


def test_a_bom_nested_50_levels_reads_as_before():
    plain = read(sample(NESTED).read_bytes())
    deep = read(with_member(nested(49)))
    assert deep.entries == plain.entries and deep.subject == plain.subject


@pytest.mark.django_db
def test_a_deep_sbom_upload_is_a_400_and_nothing_is_written(login_as, bu_member, system):
    response = login_as(bu_member).post(
        f"/api/v1/systems/{system.pk}/sbom/",
        {"file": SimpleUploadedFile("bom.json", with_member(nested(DEEP)))},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400, response.content
    assert "more than 100 levels deep" in json.dumps(response.json()["file"])
    assert not SbomUpload.objects.exists() and not Component.objects.exists()
