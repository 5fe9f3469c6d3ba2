"""The CycloneDX reader on real BOMs, and on real BOMs cut, corrupted or mislabelled."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from systems.sbom import Sbom, SbomError, read_cyclonedx
from tests.vulnerabilities.samples import sample

NESTED = "cyclonedx/defectdojo_cdx_nested-component-log4j.json"
UBUNTU = "cyclonedx/defectdojo_cdx_issue_9277.json"
VEX = "cyclonedx/cdx_examples_vex_cisa_case2.json"
JACKSON = "cyclonedx/defectdojo_cdx_valid-vulnerability-1.4.json"
CERN = "cyclonedx/cdx_examples_cern-lhc-vdm-editor_bom.json"
READABLE = [NESTED, UBUNTU, VEX, JACKSON]

LOG4J_PURL = b'"purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2"'


def data(name: str) -> bytes:
    return sample(name).read_bytes()


def read(raw: bytes, **options: int) -> Sbom:
    return read_cyclonedx(io.BytesIO(raw), **options)


def refusal(raw: bytes, **options: int) -> SbomError:
    with pytest.raises(SbomError) as caught:
        read(raw, **options)
    return caught.value


def replaced(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert raw.count(old) == 1, old
    return raw.replace(old, new)


def test_nested_components_are_walked_and_log4j_core_is_read() -> None:
    raw = data(NESTED)
    with sample(NESTED).open("rb") as stream:
        sbom = read_cyclonedx(stream)
    assert sbom.spec_version == "1.4"
    assert sbom.serial_number == "urn:uuid:b93c5d57-4484-44ba-830e-dae7ef559120"
    assert sbom.version == 1
    assert (
        sbom.subject == "./configuration/.m2/repository/org/apache/logging/log4j/log4j-core/2.13.2"
    )
    [entry] = sbom.entries
    assert entry.identity.written == "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2"
    assert entry.identity.package == "pkg:maven/org.apache.logging.log4j/log4j-core"
    assert (entry.identity.version, entry.identity.scheme) == ("2.13.2", "maven")
    assert entry.bom_ref.endswith("?package-id=5f39f8a11642bede")
    # The container holding it has a Package URL but no version.
    assert sbom.skipped == {"no version": 1}
    assert sbom.sha256 == hashlib.sha256(raw).hexdigest()


def test_ubuntu_image_bom_reads_every_debian_package() -> None:
    sbom = read(data(UBUNTU))
    assert sbom.spec_version == "1.5"
    assert sbom.serial_number == "urn:uuid:0a6ed783-9138-4492-8d51-a4d02937ca69"
    assert sbom.subject.startswith("pkg:oci/ubuntu@sha256%3A6042500cf4b44023")
    assert len(sbom.entries) == 101
    assert {entry.identity.scheme for entry in sbom.entries} == {"deb"}
    by_name = {entry.identity.name: entry.identity for entry in sbom.entries}
    assert by_name["bsdutils"].version == "1:2.37.2-4ubuntu3"  # the purl's epoch qualifier
    assert by_name["bsdutils"].package == "pkg:deb/ubuntu/bsdutils"
    # The operating system component has neither a Package URL nor a CPE.
    assert sbom.skipped == {"no identifier": 1}


def test_vex_document_gives_its_subject_and_no_components() -> None:
    sbom = read(data(VEX))
    assert (sbom.spec_version, sbom.serial_number, sbom.version) == ("1.4", "", 1)
    assert sbom.subject == "ABC@4.2"
    assert sbom.entries == []
    assert not sbom.skipped


def test_bom_without_metadata_is_named_by_its_serial_number() -> None:
    sbom = read(data(JACKSON))
    assert sbom.subject == "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    [entry] = sbom.entries
    assert entry.identity.written == "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.4"


@pytest.mark.parametrize("spec", ["1.4", "1.5", "1.6"])
def test_each_supported_spec_version_is_read(spec: str) -> None:
    raw = replaced(data(CERN), b'"specVersion": "1.2"', f'"specVersion": "{spec}"'.encode())
    sbom = read(raw)
    assert sbom.spec_version == spec
    assert sbom.subject == "pkg:npm/lhc-vdm-editor@0.0.1"
    assert len(sbom.entries) == 43
    assert "pkg:npm/puppeteer@1.19.0" in {entry.identity.written for entry in sbom.entries}


def test_cyclonedx_1_2_is_refused() -> None:
    error = refusal(data(CERN))
    assert "CycloneDX 1.2 is not read" in error.message


def test_cyclonedx_1_3_is_refused() -> None:
    raw = replaced(data(NESTED), b'"specVersion": "1.4"', b'"specVersion": "1.3"')
    assert "CycloneDX 1.3 is not read" in refusal(raw).message


def test_missing_spec_version_is_refused() -> None:
    raw = replaced(data(NESTED), b'"specVersion": "1.4",', b"")
    assert "specVersion" in refusal(raw).message


def test_other_bom_format_is_refused() -> None:
    raw = replaced(data(NESTED), b'"bomFormat": "CycloneDX"', b'"bomFormat": "SPDX"')
    assert refusal(raw).message == "This is not a CycloneDX BOM: its bomFormat is “SPDX”."


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("trivy/trivy_pip.json", "This is a Trivy report, not a CycloneDX SBOM."),
        ("grype/grype_TestJsonImgsPresenter.json", "This is a Grype report, not a CycloneDX SBOM."),
        (
            "osv/osvscanner_PyPI_PYSEC-2023-74.json",
            "This is not a CycloneDX BOM: it has no bomFormat.",
        ),
    ],
)
def test_other_json_reports_are_refused_saying_what_they_are_not(name: str, what: str) -> None:
    assert refusal(data(name)).message == what


def test_json_array_is_refused() -> None:
    error = refusal(data("masscan/defectdojo_masscan_many_vuln.json"))
    assert error.message == "This is not a CycloneDX BOM: the JSON is not an object."


def test_xml_is_refused_saying_only_json_is_read() -> None:
    error = refusal(data("nmap/defectdojo_nmap_nmap_multiple_port.xml"))
    assert error.message == "Only CycloneDX JSON is read: this file is XML."


@pytest.mark.parametrize("name", READABLE)
def test_truncated_file_is_refused(name: str) -> None:
    raw = data(name)
    error = refusal(raw[: len(raw) // 2])
    assert error.message == "The file ends before its JSON does: it is truncated."
    assert error.where == f"byte {len(raw) // 2}"


def test_empty_file_is_refused() -> None:
    assert refusal(b"  \n").message == "The file is empty."


def test_bytes_that_are_not_utf8_are_refused_where_they_are() -> None:
    raw = replaced(data(UBUNTU), b'"name": "bsdutils"', b'"name": "bsd\xffutils"')
    error = refusal(raw)
    assert error.message == "The file is not UTF-8 text."
    offset = raw.index(b"\xff")
    assert error.where == f"byte {offset}"


def test_utf16_text_is_refused_as_not_utf8() -> None:
    raw = data(JACKSON).decode().encode("utf-16-le")
    assert refusal(raw).message == "The file is not UTF-8 text."


def test_utf8_byte_order_mark_is_accepted_and_hashed() -> None:
    raw = b"\xef\xbb\xbf" + data(JACKSON)
    sbom = read(raw)
    assert len(sbom.entries) == 1
    assert sbom.sha256 == hashlib.sha256(raw).hexdigest()


def test_malformed_purl_refuses_the_file_naming_the_component() -> None:
    raw = replaced(data(NESTED), LOG4J_PURL, b'"purl": "pkg:/nope"')
    error = refusal(raw)
    assert error.where.startswith("components[0].components[0] (pkg:maven/")
    assert "pkg:/nope" in error.message


def test_malformed_purl_among_many_names_its_index() -> None:
    old = b'"purl": "pkg:deb/ubuntu/apt@2.4.11?arch=amd64&distro=ubuntu-22.04"'
    raw = replaced(data(UBUNTU), old, b'"purl": "pkg:/nope"')
    error = refusal(raw)
    assert error.where == "components[2] (pkg:deb/ubuntu/apt@2.4.11?arch=amd64&distro=ubuntu-22.04)"


def test_purl_and_version_field_that_disagree_are_refused() -> None:
    raw = replaced(data(JACKSON), b'"version": "2.9.4"', b'"version": "2.9.5"')
    error = refusal(raw)
    assert error.where.startswith("components[0]")
    assert "2.9.5" in error.message


def test_component_without_version_is_counted_not_refused() -> None:
    raw = replaced(data(NESTED), b'"version": "2.13.2",', b"")
    raw = replaced(raw, LOG4J_PURL, b'"purl": "pkg:maven/org.apache.logging.log4j/log4j-core"')
    sbom = read(raw)
    assert sbom.entries == []
    assert sbom.skipped == {"no version": 2}


def test_version_field_completes_a_purl_without_one() -> None:
    raw = replaced(
        data(NESTED), LOG4J_PURL, b'"purl": "pkg:maven/org.apache.logging.log4j/log4j-core"'
    )
    [entry] = read(raw).entries
    assert entry.identity.written == "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2"


def test_unknown_ecosystem_is_kept_and_counted() -> None:
    raw = replaced(
        data(NESTED),
        b'"name": "testcontainer:test",',
        b'"name": "testcontainer:test", "version": "1.0",',
    )
    sbom = read(raw)
    assert [entry.identity.written for entry in sbom.entries] == [
        "pkg:oci/testcontainer@1.0?repository_url=testregistry.test",
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2",
    ]
    assert sbom.entries[0].identity.scheme == ""
    assert sbom.skipped == {"unknown ecosystem: oci": 1}


def test_cpe_is_read_when_there_is_no_purl() -> None:
    raw = replaced(
        data(JACKSON),
        b'"purl": "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.4"',
        b'"cpe": "cpe:2.3:a:fasterxml:jackson-databind:*:*:*:*:*:*:*:*"',
    )
    [entry] = read(raw).entries
    assert (entry.identity.kind, entry.identity.package) == (
        "cpe",
        "cpe:a:fasterxml:jackson-databind",
    )
    assert entry.identity.version == "2.9.4"


def test_duplicate_components_collapse_to_one_entry() -> None:
    bom = json.loads(data(JACKSON))
    twin = dict(bom["components"][0], **{"bom-ref": "second-copy"})
    bom["components"].append({"type": "application", "name": "app", "components": [twin]})
    sbom = read(json.dumps(bom).encode())
    [entry] = sbom.entries
    assert entry.bom_ref == "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.4"
    assert sbom.skipped == {"no identifier": 1}


def test_header_and_metadata_after_the_components_are_read_in_one_pass() -> None:
    bom = json.loads(data(UBUNTU))
    header = {key: bom.pop(key) for key in ("bomFormat", "specVersion", "metadata")}
    sbom = read(json.dumps({**bom, **header}).encode())
    assert len(sbom.entries) == 101
    assert sbom.spec_version == "1.5"
    assert sbom.subject.startswith("pkg:oci/ubuntu@sha256")


def test_bad_component_before_a_foreign_header_reports_the_format() -> None:
    raw = replaced(data(NESTED), LOG4J_PURL, b'"purl": "pkg:/nope"')
    bom = json.loads(raw)
    bom["bomFormat"] = "SPDX"
    reordered = {"components": bom.pop("components"), **bom}
    assert "bomFormat is “SPDX”" in refusal(json.dumps(reordered).encode()).message


def test_more_than_max_bytes_is_refused_without_reading_the_rest() -> None:
    raw = data(UBUNTU)
    stream = io.BytesIO(raw)
    with pytest.raises(SbomError) as caught:
        read_cyclonedx(stream, max_bytes=100_000)
    assert caught.value.where == "byte 100001"
    assert "100000 bytes" in caught.value.message
    assert stream.tell() == 100_001


def test_file_of_exactly_max_bytes_is_read() -> None:
    raw = data(JACKSON)
    assert len(read(raw, max_bytes=len(raw)).entries) == 1


class Trickle(io.BytesIO):
    """A stream that gives a few bytes per read, as a network upload may."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(3 if size is None or size < 0 else min(size, 3))


def test_stream_giving_a_few_bytes_at_a_time_reads_the_same() -> None:
    raw = replaced(
        data(NESTED), b'"name": "log4j-core"', '"name": "log4j-core \u00e9 \u65e5\u672c"'.encode()
    )
    sbom = read_cyclonedx(Trickle(b"\xef\xbb\xbf\n  " + raw))
    assert [entry.identity.name for entry in sbom.entries] == ["log4j-core"]
    assert sbom.sha256 == hashlib.sha256(b"\xef\xbb\xbf\n  " + raw).hexdigest()


def test_bytes_that_are_not_utf8_far_in_are_refused_where_they_are() -> None:
    raw = replaced(data(UBUNTU), b'"name": "zlib1g"', '"name": "zlib1g é\xff"'.encode("latin-1"))
    offset = raw.index(b"\xff")
    assert offset > 100_000
    for stream in (io.BytesIO(raw), Trickle(raw)):
        with pytest.raises(SbomError) as caught:
            read_cyclonedx(stream)
        assert caught.value.where == f"byte {offset - 1}"
