"""The feed readers on the real OSV, NVD and KEV samples, and on broken variants of them."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from univers.version_range import VersionRange

from tests.vulnerabilities.samples import sample
from vulnerabilities.feeds import read_feed, read_kev, read_nvd, read_osv
from vulnerabilities.records import AdvisoryRecord, AffectedPackage, FeedError

UTC = dt.UTC


def data(relative: str) -> bytes:
    return sample(relative).read_bytes()


def only(relative: str, reader=read_osv) -> AdvisoryRecord:
    with sample(relative).open("rb") as stream:
        report = reader(stream, name=relative)
    assert len(report.advisories) == 1
    return report.advisories[0]


def contains(affected: AffectedPackage, version: str) -> bool:
    versions = VersionRange.from_string(affected.vers)
    return versions.version_class(version) in versions


class Unseekable(io.RawIOBase):
    """An upload that can only be read forward, `chunk` bytes at most per read."""

    def __init__(self, payload: bytes, chunk: int = 65536) -> None:
        self._inner = io.BytesIO(payload)
        self._chunk = chunk

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._inner.read(min(len(buffer), self._chunk))
        buffer[: len(chunk)] = chunk
        return len(chunk)


# OSV


def test_osv_pypi_record_with_three_intervals() -> None:
    record = only("osv/osvscanner_PyPI_PYSEC-2021-98.json")
    assert record.source == "osv"
    assert record.source_id == "PYSEC-2021-98"
    assert record.aliases == ("BIT-django-2021-33203", "CVE-2021-33203", "GHSA-68w8-qjq3-2gfm")
    assert record.summary.startswith("Django before 2.2.24, 3.x before 3.1.12")
    assert record.published == dt.datetime(2021, 6, 8, 18, 15, tzinfo=UTC)
    assert record.modified == dt.datetime(2023, 12, 6, 1, 1, 16, 755410, tzinfo=UTC)
    assert record.withdrawn is None
    assert record.cvss_vectors == ()
    assert "https://github.com/advisories/GHSA-68w8-qjq3-2gfm" in record.references
    (django,) = record.affected
    assert django.package == "pkg:pypi/django"
    assert django.scheme == "pypi"
    assert django.vers == "vers:pypi/<2.2.24|>=3.0|<3.1.12|>=3.2|<3.2.4"
    assert django.fixed == ("2.2.24", "3.1.12", "3.2.4")
    assert django.rule == (
        "OSV PyPI range: introduced 0, fixed 2.2.24, introduced 3.0, fixed 3.1.12, "
        "introduced 3.2, fixed 3.2.4"
    )
    assert not django.review_only
    for version in ("1.0.1", "2.2.23", "3.0", "3.1.11", "3.2.3"):
        assert contains(django, version), version
    for version in ("2.2.24", "2.2.28", "3.1.12", "3.2.4", "4.0"):
        assert not contains(django, version), version


def test_osv_git_ranges_are_ignored_and_details_give_the_summary() -> None:
    record = only("osv/osvscanner_PyPI_PYSEC-2023-74.json")
    assert record.summary == (
        "Requests is a HTTP library. Since Requests 2.3.0, Requests has been leaking "
        "Proxy-Authorization headers to destination servers when redirected to an HTTPS "
        "endpoint. This is a product of how we use `rebuild_proxies` to reattach the "
        "`Proxy-Authorization` header to requests. For HTTP connections sent through the "
        "tunnel, the proxy will identify the header in the request itself and remove it prior "
        "to forwarding to the destination server. However when sent over HTTPS, the "
        "`Proxy-Authorization` header must be sent in the CONNECT request as the proxy has no "
        "visibility into the tunneled request. This results in Requests forwarding proxy "
        "credentials to the destination server unintentionally, allowing a malicious actor to "
        "potentially exfiltrate sensitive information. This issue has been patched in version "
        "2.31.0."
    )
    (requests,) = record.affected  # the GIT range gives nothing
    assert requests.vers == "vers:pypi/>=2.3.0|<2.31.0"
    assert contains(requests, "2.30.0") and not contains(requests, "2.31.0")
    assert not contains(requests, "2.2.1")


def test_osv_maven_fixed_and_last_affected_ranges() -> None:
    record = only("osv/osvscanner_Maven_GHSA-3pxv-7cmr-fjr4.json")
    assert record.aliases == ("CVE-2026-34480",)  # "related" is another flaw, not an alias
    assert record.cvss_vectors == (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:L/SA:N",
    )
    assert record.modified == dt.datetime(2026, 4, 16, 11, 29, 10, 536806, tzinfo=UTC)
    two, three = record.affected
    assert two.package == three.package == "pkg:maven/org.apache.logging.log4j/log4j-core"
    assert two.vers == "vers:maven/>=2.0-alpha1|<2.25.4"
    assert two.fixed == ("2.25.4",)
    assert contains(two, "2.25.3") and contains(two, "2.0-alpha1")
    assert not contains(two, "2.25.4") and not contains(two, "1.2.17")
    assert three.vers == "vers:maven/>=3.0.0-alpha1|<=3.0.0-beta3"
    assert three.fixed == ()
    assert three.rule == "OSV Maven range: introduced 3.0.0-alpha1, last_affected 3.0.0-beta3"
    assert contains(three, "3.0.0-beta3") and not contains(three, "3.0.0")


def test_osv_npm_semver_range_and_cvss_v3() -> None:
    record = only("osv/osvscanner_npm_GHSA-whgm-jr23-g3j9.json")
    assert record.summary == "Uncontrolled Resource Consumption in ansi-html"
    assert record.cvss_vectors == ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",)
    (ansi,) = record.affected
    assert (ansi.package, ansi.scheme, ansi.vers) == ("pkg:npm/ansi-html", "npm", "vers:npm/<0.0.8")
    assert ansi.rule == "OSV npm SEMVER range: introduced 0, fixed 0.0.8"
    assert contains(ansi, "0.0.7") and not contains(ansi, "0.0.8")


def test_osv_debian_release_ecosystem_and_purl_qualifiers() -> None:
    record = only("osv/osvscanner_Debian_DLA-3051-1.json")
    assert record.source_id == "DLA-3051-1"
    assert record.aliases == ()
    (tzdata,) = record.affected
    assert tzdata.package == "pkg:deb/debian/tzdata"
    assert tzdata.scheme == "deb"
    assert tzdata.vers == "vers:deb/<2021a-0+deb9u4"
    assert tzdata.rule == "OSV Debian:9 range: introduced 0, fixed 2021a-0+deb9u4"
    assert contains(tzdata, "2021a-0+deb9u3") and not contains(tzdata, "2021a-0+deb9u4")


def test_osv_withdrawn_record() -> None:
    record = only("osv/dtrack_osv-withdrawn.json")
    assert record.source_id == "GHSA-77rv-6vfw-x4gc"
    assert record.aliases == ("CVE-2019-3778",)
    assert record.withdrawn == dt.datetime(2020, 3, 14, 15, 39, 30, tzinfo=UTC)
    assert record.published == dt.datetime(2019, 3, 14, 15, 39, 30, tzinfo=UTC)
    assert record.references == ("https://nvd.nist.gov/vuln/detail/CVE-2019-3778",)
    (oauth,) = record.affected
    assert oauth.vers == "vers:maven/<2.0.17"


def test_osv_ranges_sample_has_no_id_and_is_refused() -> None:
    with pytest.raises(FeedError, match="no “id”"):
        read_osv(io.BytesIO(data("osv/dtrack_osv-vulnerability-with-ranges.json")))


def test_osv_odd_ranges_follow_osv_evaluation() -> None:
    payload = data("osv/dtrack_osv-vulnerability-with-ranges.json").replace(
        b"{", b'{"id": "GHSA-77rv-6vfw-x4gc", "modified": "2022-06-09T07:01:32Z",', 1
    )
    (record,) = read_osv(io.BytesIO(payload)).advisories
    listed, *ranges = record.affected
    assert listed.package == "pkg:maven/org.springframework.security.oauth/spring-security-oauth2"
    assert listed.vers == "vers:maven/1.0.0.RELEASE|1.0.1.RELEASE"  # only versions, no range
    assert listed.rule == "OSV Maven versions: 1.0.0.RELEASE, 1.0.1.RELEASE"
    assert contains(listed, "1.0.1.RELEASE") and not contains(listed, "1.0.2.RELEASE")
    assert [(a.vers, a.fixed) for a in ranges] == [
        ("vers:maven/<2.0.17", ("2.0.17",)),
        ("vers:maven/>=1|<2|>=3|<4", ("2", "4")),
        ("vers:maven/<1", ("1",)),  # the SEMVER range of the same entry
        ("vers:maven/>=3|<5", ("2", "5")),  # "fixed 2" closes nothing; "introduced 4" is inside
        ("vers:maven/>=3.1.0|<3.3.0", ("3.3.0",)),
        ("vers:maven/>=10|<13", ()),  # limit bounds without being a fix
        ("vers:maven/>=10", ()),
    ]
    two_intervals = ranges[1]
    assert [contains(two_intervals, v) for v in ("0.9", "1", "1.5", "2", "2.5", "3", "4")] == [
        False,
        True,
        True,
        False,
        False,
        True,
        False,
    ]
    assert ranges[3].rule == "OSV Maven range: fixed 2, introduced 3, introduced 4, fixed 5"
    assert contains(ranges[6], "29.0") and not contains(ranges[6], "9.9")


def test_osv_list_and_zip_of_records(tmp_path) -> None:
    names = [
        "osv/osvscanner_PyPI_PYSEC-2021-98.json",
        "osv/osvscanner_npm_GHSA-whgm-jr23-g3j9.json",
        "osv/osvscanner_Debian_DLA-3051-1.json",
    ]
    listed = b"[" + b",".join(data(name) for name in names) + b"]"
    ids = ["PYSEC-2021-98", "GHSA-whgm-jr23-g3j9", "DLA-3051-1"]
    assert [r.source_id for r in read_osv(io.BytesIO(listed)).advisories] == ids
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in names:
            zipped.writestr(name.split("_", 2)[-1], data(name))
    for stream in (
        io.BytesIO(archive.getvalue()),
        io.BufferedReader(Unseekable(archive.getvalue())),
    ):
        report = read_feed("osv", stream, name="all.zip")
        assert [r.source_id for r in report.advisories] == ids
        assert report.advisories[1].affected[0].vers == "vers:npm/<0.0.8"


def test_osv_zip_error_names_the_member() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("PYSEC-2021-98.json", data("osv/osvscanner_PyPI_PYSEC-2021-98.json"))
        zipped.writestr("CVE-2015-0312.json", data("nvd/dtrack_cve-2015-0312.json"))
    archive.seek(0)
    with pytest.raises(FeedError) as caught:
        read_osv(archive, name="all.zip")
    assert caught.value.where == "all.zip, member CVE-2015-0312.json"
    assert "no “id”" in caught.value.message


def test_osv_unknown_ecosystem_is_counted_not_refused() -> None:
    payload = data("osv/osvscanner_npm_GHSA-whgm-jr23-g3j9.json")
    payload = payload.replace(b'"ecosystem": "npm"', b'"ecosystem": "Bitnami"')
    payload = payload.replace(b'"purl": "pkg:npm/ansi-html"', b'"purl": "pkg:bitnami/ansi-html"')
    report = read_osv(io.BytesIO(payload))
    assert report.advisories[0].affected == ()
    assert report.unknown_ecosystems == {"Bitnami": 1}


def test_osv_ecosystem_without_purl_gives_the_key() -> None:
    payload = data("osv/osvscanner_Maven_GHSA-3pxv-7cmr-fjr4.json")
    payload = payload.replace(b'"purl": "pkg:maven/org.apache.logging.log4j/log4j-core"', b"")
    payload = payload.replace(b'"ecosystem": "Maven",', b'"ecosystem": "Maven"')
    affected = read_osv(io.BytesIO(payload)).advisories[0].affected
    assert {a.package for a in affected} == {"pkg:maven/org.apache.logging.log4j/log4j-core"}


def test_osv_malformed_purl_is_refused() -> None:
    payload = data("osv/osvscanner_PyPI_PYSEC-2021-98.json").replace(
        b'"purl": "pkg:pypi/django"', b'"purl": "pkg:/django"'
    )
    with pytest.raises(FeedError) as caught:
        read_osv(io.BytesIO(payload), name="x.json")
    assert caught.value.where == "x.json, PYSEC-2021-98"
    assert "Package URL" in caught.value.message


def test_osv_version_the_scheme_cannot_read_is_refused() -> None:
    payload = data("osv/osvscanner_PyPI_PYSEC-2023-74.json").replace(
        b'"fixed": "2.31.0"', b'"fixed": "not a version!"'
    )
    with pytest.raises(FeedError, match="not a version!") as caught:
        read_osv(io.BytesIO(payload))
    assert caught.value.where == "PYSEC-2023-74"


def test_osv_reader_refuses_an_nvd_file() -> None:
    with pytest.raises(FeedError, match="not an OSV record"):
        read_osv(io.BytesIO(data("nvd/dtrack_cve-2022-1954.json")))


# NVD


def test_nvd_and_configurations_carry_their_platforms() -> None:
    record = only("nvd/dtrack_cve-2015-0312.json", read_nvd)
    assert record.source == "nvd"
    assert record.source_id == "CVE-2015-0312"
    assert record.aliases == ()
    assert record.summary.startswith("Double free vulnerability in Adobe Flash Player")
    assert record.published == dt.datetime(2015, 1, 28, 22, 59, 1, 937000, tzinfo=UTC)
    assert record.withdrawn is None
    assert record.cvss_vectors == ()  # CVSS 2 only
    assert len(record.references) == 8
    linux, windows, chrome, extended, desktop = record.affected
    assert linux.package == "cpe:a:adobe:flash_player"
    assert linux.scheme == "generic"
    assert linux.vers == "vers:generic/<=11.2.202.438"
    assert linux.platforms == ("cpe:o:linux:linux_kernel",)
    assert linux.rule == (
        "NVD CPE cpe:2.3:a:adobe:flash_player:*:*:*:*:*:*:*:*: versionEndIncluding "
        "11.2.202.438; with one of cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*"
    )
    assert windows.platforms == (
        "cpe:a:microsoft:internet_explorer",
        "cpe:o:microsoft:windows_8",
        "cpe:o:microsoft:windows_8.1",
    )
    assert chrome.vers == windows.vers == "vers:generic/<=16.0.0.287"
    assert chrome.platforms == (
        "cpe:o:apple:macos",
        "cpe:o:linux:linux_kernel",
        "cpe:o:microsoft:windows",
    )
    assert extended.vers == "vers:generic/<=13.0.0.262"
    assert desktop.package == "cpe:a:adobe:flash_player_desktop_runtime"
    assert all(not a.review_only and a.fixed == () for a in record.affected)


def test_nvd_bounds_exact_versions_and_primary_vector() -> None:
    record = only("nvd/dtrack_cve-2022-1954.json", read_nvd)
    assert record.cvss_vectors == ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L",)
    # Community and enterprise editions give the same package and range: one each.
    first, second, exact = record.affected
    assert {a.package for a in record.affected} == {"cpe:a:gitlab:gitlab"}
    assert first.vers == "vers:generic/>=1.0.2|<14.10.5"
    assert first.fixed == ("14.10.5",)
    assert first.rule == (
        "NVD CPE cpe:2.3:a:gitlab:gitlab:*:*:*:*:community:*:*:*: "
        "versionStartIncluding 1.0.2, versionEndExcluding 14.10.5"
    )
    assert contains(first, "14.10.4") and contains(first, "1.0.2")
    assert not contains(first, "14.10.5") and not contains(first, "1.0.1")
    assert second.vers == "vers:generic/>=15.0.0|<15.0.4"
    assert exact.vers == "vers:generic/15.1.0"
    assert (
        exact.rule == "NVD CPE cpe:2.3:a:gitlab:gitlab:15.1.0:*:*:*:community:*:*:*: version 15.1.0"
    )
    assert contains(exact, "15.1.0") and not contains(exact, "15.1.1")


def test_nvd_cvss4_first_and_no_configurations() -> None:
    record = only("nvd/dtrack_cve-2025-9377.json", read_nvd)
    assert record.cvss_vectors == (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    )
    assert record.affected == ()
    assert record.modified == dt.datetime(2025, 6, 10, 8, 30, tzinfo=UTC)


def test_nvd_duplicate_cpes_collapse() -> None:
    record = only("nvd/dtrack_nvdcve-2.0-2021_duplicate-cpes.json", read_nvd)
    assert record.source_id == "CVE-2021-0002"
    firmware, *fedora = record.affected
    assert firmware.package == "cpe:o:intel:ethernet_controller_e810_firmware"
    assert firmware.vers == "vers:generic/<1.4.11"
    assert firmware.platforms == ("cpe:h:intel:ethernet_controller_e810",)
    assert [a.vers for a in fedora] == ["vers:generic/33", "vers:generic/34", "vers:generic/35"]
    assert all(a.platforms == () for a in fedora)
    assert len(record.references) == 5  # the same URLs from two sources, once each


def test_nvd_any_version_is_for_review_only() -> None:
    payload = data("nvd/dtrack_nvdcve-2.0-2021_duplicate-cpes.json").replace(
        b"cpe:2.3:o:fedoraproject:fedora:33:", b"cpe:2.3:o:fedoraproject:fedora:*:"
    )
    (record,) = read_nvd(io.BytesIO(payload)).advisories
    review = record.affected[1]
    assert (review.package, review.vers, review.review_only) == (
        "cpe:o:fedoraproject:fedora",
        "",
        True,
    )
    assert review.rule == "NVD CPE cpe:2.3:o:fedoraproject:fedora:*:*:*:*:*:*:*:*: every version"


def test_nvd_rejected_cve_is_withdrawn_and_bare_cve_is_read() -> None:
    payload = data("nvd/dtrack_cve-2022-1954.json").replace(b'"Analyzed"', b'"Rejected"')
    start = payload.index(b'{\n      "cve"')
    end = payload.rindex(b"]")
    bare = payload[start:end].rstrip()
    (record,) = read_nvd(io.BytesIO(bare)).advisories
    assert (
        record.withdrawn
        == record.modified
        == dt.datetime(2023, 8, 8, 14, 22, 24, 967000, tzinfo=UTC)
    )


def test_nvd_reader_refuses_osv_and_kev_files() -> None:
    with pytest.raises(FeedError, match="not an NVD CVE file"):
        read_nvd(io.BytesIO(data("osv/osvscanner_PyPI_PYSEC-2021-98.json")))
    with pytest.raises(FeedError, match="“cve”"):
        read_nvd(io.BytesIO(data("kev/cisa_kev_slice.json")))


def test_nvd_malformed_cpe_is_refused() -> None:
    payload = data("nvd/dtrack_cve-2022-1954.json").replace(
        b"cpe:2.3:a:gitlab:gitlab:15.1.0:", b"cpe:2.2:a:gitlab:gitlab:15.1.0:"
    )
    with pytest.raises(FeedError, match=r"CPE 2\.3") as caught:
        read_nvd(io.BytesIO(payload), name="nvd.json")
    assert caught.value.where == "nvd.json, record 1 (CVE-2022-1954)"


# KEV


def test_kev_slice() -> None:
    with sample("kev/cisa_kev_slice.json").open("rb") as stream:
        report = read_feed("kev", stream)
    assert len(report.kev) == 11
    assert report.advisories == []
    git = report.kev[0]
    assert git.cve_id == "CVE-2025-48384"
    assert (git.vendor, git.product) == ("Git", "Git")
    assert git.name == "Git Link Following Vulnerability"
    assert git.date_added == dt.date(2025, 8, 25)
    assert git.due_date == dt.date(2025, 9, 15)
    assert git.known_ransomware is False
    assert git.required_action.startswith("Apply mitigations per vendor instructions")
    assert sum(entry.known_ransomware for entry in report.kev) == 3


def test_kev_with_a_wrong_count_is_refused() -> None:
    payload = data("kev/cisa_kev_slice.json").replace(b'"count": 11', b'"count": 12')
    with pytest.raises(FeedError, match="says it has 12 entries but holds 11"):
        read_kev(io.BytesIO(payload))


def test_kev_reader_refuses_the_schema_and_an_nvd_file() -> None:
    with pytest.raises(FeedError, match="not the KEV catalogue"):
        read_kev(io.BytesIO(data("kev/cisa_kev_schema.json")))
    with pytest.raises(FeedError, match="cveID"):
        read_kev(io.BytesIO(data("nvd/dtrack_cve-2022-1954.json")))


# Broken bytes, whichever the reader


@pytest.mark.parametrize(
    ("kind", "relative"),
    [
        ("osv", "osv/osvscanner_PyPI_PYSEC-2021-98.json"),
        ("nvd", "nvd/dtrack_cve-2015-0312.json"),
        ("kev", "kev/cisa_kev_slice.json"),
    ],
)
def test_truncated_file_is_refused(kind: str, relative: str) -> None:
    whole = data(relative)
    with pytest.raises(FeedError, match="not complete, valid JSON") as caught:
        read_feed(kind, io.BytesIO(whole[: len(whole) // 2]), name="cut.json")
    assert caught.value.where == "cut.json"


@pytest.mark.parametrize(
    ("kind", "relative", "inside"),
    [
        ("osv", "osv/osvscanner_PyPI_PYSEC-2021-98.json", b"Django before"),
        ("nvd", "nvd/dtrack_cve-2015-0312.json", b"Double free"),
        ("kev", "kev/cisa_kev_slice.json", b"Git Link Following"),
    ],
)
def test_bytes_that_are_not_utf8_are_refused_with_their_offset(
    kind: str, relative: str, inside: bytes
) -> None:
    whole = data(relative)
    offset = whole.index(inside) + 3
    broken = whole[:offset] + b"\xff" + whole[offset:]
    with pytest.raises(FeedError) as caught:
        read_feed(kind, io.BytesIO(broken))
    assert caught.value.message == (
        f"The file is not UTF-8: the byte at offset {offset} cannot be read."
    )


def test_utf8_cut_between_reads_is_accepted_and_bom_skipped() -> None:
    payload = data("kev/cisa_kev_slice.json").replace(
        b"Git Link Following", "Git Link Følløwing".encode()
    )
    report = read_kev(Unseekable(b"\xef\xbb\xbf" + payload, chunk=7))  # type: ignore[arg-type]
    assert report.kev[0].name == "Git Link Følløwing Vulnerability"


def test_unknown_feed_kind() -> None:
    with pytest.raises(FeedError, match="Unknown feed kind"):
        read_feed("cve5", io.BytesIO(b"{}"))


def test_nvd_version_no_rule_compares_is_for_review_not_refused() -> None:
    payload = data("nvd/dtrack_nvdcve-2.0-2021_duplicate-cpes.json").replace(
        b"cpe:2.3:o:fedoraproject:fedora:34:", b"cpe:2.3:o:fedoraproject:fedora:r12:"
    )
    (record,) = read_nvd(io.BytesIO(payload)).advisories
    odd = record.affected[2]
    assert (odd.vers, odd.review_only) == ("", True)
    assert odd.rule.endswith(": version r12 (version not comparable: for review)")
