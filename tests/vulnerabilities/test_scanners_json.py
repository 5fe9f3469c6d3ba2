"""The JSON scanner-report readers (Trivy, Grype, CycloneDX, SARIF, masscan) and format detection."""

from __future__ import annotations

import datetime as dt
import io
import json
import tracemalloc
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.vulnerabilities.samples import SAMPLES, sample
from vulnerabilities.records import FeedError
from vulnerabilities.scanners import cyclonedx, grype, masscan, sarif, trivy
from vulnerabilities.scanners.detect import READERS, detect
from vulnerabilities.scanners.records import (
    SURFACE_FORMATS,
    VULNERABILITY_FORMATS,
    Host,
    Observation,
    OpenService,
    ReportInfo,
    Tally,
)


def read_bytes(module: ModuleType, data: bytes, where: str = "report.json") -> tuple[list, Tally]:
    tally = Tally()
    records = list(module.read(io.BytesIO(data), where=where, tally=tally))
    return records, tally


def read_sample(module: ModuleType, relative: str) -> tuple[list, Tally]:
    tally = Tally()
    with sample(relative).open("rb") as stream:
        records = list(module.read(stream, where=relative, tally=tally))
    assert isinstance(records[0], ReportInfo)
    hosts_so_far: set[str] = set()
    for record in records[1:]:  # each host comes before anything naming it
        if isinstance(record, Host):
            assert record.ref not in hosts_so_far
            hosts_so_far.add(record.ref)
        else:
            assert record.host in hosts_so_far
    return records, tally


def hosts(records: list) -> list[Host]:
    return [record for record in records if isinstance(record, Host)]


def observations(records: list) -> list[Observation]:
    return [record for record in records if isinstance(record, Observation)]


def by_name(records: list, name: str) -> list[Observation]:
    return [record for record in observations(records) if name in record.names]


def sample_json(relative: str) -> Any:
    return json.loads(sample(relative).read_bytes())


def refused(module: ModuleType, data: bytes, where: str = "report.json") -> FeedError:
    with pytest.raises(FeedError) as caught:
        read_bytes(module, data, where)
    return caught.value


# --- Trivy -------------------------------------------------------------------------------------


def test_trivy_image_report_os_and_language_packages():
    records, _tally = read_sample(trivy, "trivy/defectdojo_scheme_2_many_vulns.json")
    info = records[0]
    assert info.format == "trivy" and info.tool == "Trivy"
    [host] = hosts(records)
    assert host.ref == "teamdojo:latest"
    # The HdrHistogram jar had no vulnerabilities, but Trivy looked at it: maven is covered.
    assert host.ecosystems == {"apk", "maven"}
    assert len(observations(records)) == 5
    [freetype] = by_name(records, "CVE-2020-15999")
    assert freetype.package == "pkg:apk/alpine/freetype"
    assert (freetype.version, freetype.fixed_in) == ("2.9.1-r2", "2.9.1-r3")
    assert freetype.severity == "medium"
    assert freetype.cvss_vector.startswith("CVSS:3.1/AV:N/AC:L/PR:N/UI:R")
    assert freetype.cvss_score == Decimal("6.5")
    [compress] = by_name(records, "CVE-2018-11771")
    assert compress.package == "pkg:maven/org.apache.commons/commons-compress"
    assert compress.version == "1.14"


def test_trivy_cvss_v4_from_the_severity_source_and_vendor_ids():
    records, _tally = read_sample(trivy, "trivy/defectdojo_cvssv4_severity_source.json")
    assert records[0].tool == "Trivy 0.69.1"
    assert records[0].started_at == dt.datetime(2026, 2, 24, 7, 7, 53, 487381, tzinfo=dt.UTC)
    [tomcat] = by_name(records, "CVE-2025-66614")
    assert tomcat.names == ("CVE-2025-66614", "GHSA-fpj8-gq4v-p354")
    assert tomcat.package == "pkg:maven/org.apache.tomcat/tomcat-catalina"
    # No nvd entry: the SeveritySource (ghsa) gives CVSS 4.0, preferred over redhat's 3.1.
    assert tomcat.cvss_vector == ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N")
    assert tomcat.cvss_score == Decimal("6.3")
    assert len(tomcat.detail) == 500


def test_trivy_kubernetes_report_one_host_per_resource():
    records, _tally = read_sample(trivy, "trivy/defectdojo_kubernetes.json")
    refs = [host.ref for host in hosts(records)]
    # redis-follower is in both the Vulnerabilities and Misconfigurations lists: one host.
    assert refs == [
        "default/Deployment/redis-follower",
        "default/Deployment/redis-leader",
        "default/Service/redis-follower",
        "default/Service/redis-leader",
    ]
    follower = hosts(records)[0]
    assert follower.ecosystems == {"deb"}
    assert hosts(records)[2].ecosystems == frozenset()
    found = observations(records)
    assert len(found) == 20
    apt = [o for o in by_name(records, "CVE-2020-27350") if o.host == follower.ref]
    assert apt[0].names == ("CVE-2020-27350", "DSA-4808-1")
    assert apt[0].package == "pkg:deb/debian/apt"
    # nvd's vector is preferred
    assert apt[0].cvss_vector == "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:L"
    config = [o for o in by_name(records, "KSV001") if o.host == follower.ref]
    assert config[0].package == "file:Deployment/redis-follower"
    assert config[0].severity == "medium"
    assert "allowPrivilegeEscalation" in config[0].detail


def test_trivy_misconfigurations_and_secrets_without_the_secret():
    records, _tally = read_sample(trivy, "trivy/defectdojo_misconfigurations_and_secrets.json")
    [host] = hosts(records)
    assert host.ref == "." and host.ecosystems == {"pypi"}
    [dockerfile] = by_name(records, "DS002")
    assert dockerfile.package == "file:Dockerfile"
    assert dockerfile.severity == "high"
    secrets = by_name(records, "github-pat")
    assert [s.package for s in secrets] == ["file:Dockerfile", "file:secret.txt"]
    for secret in secrets:
        assert secret.severity == "critical"
        assert secret.title == "GitHub Personal Access Token"
        assert "GITHUB_PAT" not in secret.detail and "*****" not in secret.detail
    assert "24" in secrets[0].detail
    [urllib3] = by_name(records, "CVE-2021-33503")
    assert urllib3.package == "pkg:pypi/urllib3"


def test_trivy_passed_checks_are_not_findings_and_avd_id_is_a_name(tmp_path):
    data = sample_json("trivy/defectdojo_misconfigurations_and_secrets.json")
    check = data["Results"][1]["Misconfigurations"][0]
    check["AVDID"] = "AVD-DS-0002"
    passed = dict(check, ID="DS001", AVDID="AVD-DS-0001", Status="PASS")
    data["Results"][1]["Misconfigurations"].append(passed)
    records, tally = read_bytes(trivy, json.dumps(data).encode())
    [dockerfile] = by_name(records, "DS002")
    assert dockerfile.names == ("DS002", "AVD-DS-0002")
    assert not by_name(records, "DS001")
    assert tally.skipped == {"configuration check that did not fail": 1}


def test_trivy_vex_sample_and_suppressed_findings():
    records, tally = read_sample(trivy, "trivy/trivy_gomod-vex.json")
    # What VEX filtered out is simply absent from this report (Trivy drops it); the same
    # advisory on the same module in three go.mod files is one observation.
    found = observations(records)
    assert [o.names for o in found] == [("GMS-2022-20",), ("CVE-2021-38561",)]
    assert all(o.affected for o in found)
    assert found[0].package == "pkg:golang/github.com/docker/distribution"
    assert found[0].version == "v2.7.1+incompatible"
    assert found[1].title.startswith("Due to improper index calculation")
    assert tally.skipped == {"same finding again on the same package": 2}
    assert hosts(records)[0].ecosystems == {"golang"}
    # With --show-suppressed, Trivy lists what a VEX statement took out.
    data = sample_json("trivy/trivy_gomod-vex.json")
    finding = dict(data["Results"][0]["Vulnerabilities"][1], VulnerabilityID="CVE-2022-32149")
    data["Results"][0]["ExperimentalModifiedFindings"] = [
        {
            "Type": "vulnerability",
            "Status": "not_affected",
            "Statement": "vulnerable_code_not_in_execute_path",
            "Source": "OpenVEX",
            "Finding": finding,
        },
        {"Type": "vulnerability", "Status": "ignored", "Finding": finding},
    ]
    records, tally = read_bytes(trivy, json.dumps(data).encode())
    [suppressed] = by_name(records, "CVE-2022-32149")
    assert suppressed.affected is False
    assert suppressed.package == "pkg:golang/golang.org/x/text"
    assert tally.skipped["finding suppressed without a VEX statement"] == 1


def test_trivy_pip_report():
    records, _tally = read_sample(trivy, "trivy/trivy_pip.json")
    assert records[0].tool == "Trivy dev"
    [host] = hosts(records)
    assert host.ref == "testdata/fixtures/repo/pip"
    assert {o.package for o in observations(records)} == {"pkg:pypi/werkzeug"}
    [werkzeug] = by_name(records, "CVE-2019-14806")
    assert (werkzeug.version, werkzeug.fixed_in, werkzeug.severity) == ("0.11", "0.15.3", "high")


def test_trivy_image_digests_and_package_without_purl():
    data = sample_json("trivy/defectdojo_scheme_2_many_vulns.json")
    data["Metadata"]["RepoDigests"] = ["teamdojo@sha256:" + "AB" * 32]
    data["Metadata"]["ImageID"] = "sha256:" + "cd" * 32
    records, _tally = read_bytes(trivy, json.dumps(data).encode())
    assert hosts(records)[0].image_digests == ("sha256:" + "ab" * 32, "sha256:" + "cd" * 32)


def test_trivy_refuses_bad_input(tmp_path):
    good = sample("trivy/defectdojo_scheme_2_many_vulns.json").read_bytes()
    error = refused(trivy, sample("grype/defectdojo_check_all_fields.json").read_bytes())
    assert error.message == "This is not a Trivy report: it looks like Grype output."
    error = refused(trivy, good[: len(good) // 2])
    assert "not complete" in error.message and error.where == "report.json"
    error = refused(trivy, good.replace(b"freetype", b"free\xfftype", 1))
    assert "not UTF-8" in error.message
    assert str(good.index(b"freetype") + 4) in error.message
    data = json.loads(good)
    del data["Results"][0]["Vulnerabilities"][1]["PkgName"]
    error = refused(trivy, json.dumps(data).encode())
    assert "PkgName" in error.message
    assert "Results[0].Vulnerabilities[1]" in error.where and "CVE-2020-28196" in error.where
    data = json.loads(good)
    data["SchemaVersion"] = 1
    assert "schema version 1" in refused(trivy, json.dumps(data).encode()).message
    error = refused(trivy, sample("nmap/libnmap_2_hosts_version.xml").read_bytes())
    assert error.message == "This is not a Trivy report: it looks like nmap output."
    assert "empty" in refused(trivy, b"").message


def test_trivy_memory_stays_bounded_for_a_huge_result(tmp_path):
    path = tmp_path / "huge.json"
    count = 200_000
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '{"SchemaVersion": 2, "ArtifactName": "huge:1", "ArtifactType": "container_image",'
        )
        out.write(
            '"Results": [{"Target": "huge (debian 12)", "Class": "os-pkgs", "Type": "debian",'
        )
        out.write('"Vulnerabilities": [')
        for index in range(count):
            if index:
                out.write(",")
            entry = {
                "VulnerabilityID": f"CVE-2024-{index:06d}",
                "PkgName": f"package-{index % 5000}",
                "InstalledVersion": "1.0-1",
                "Severity": "HIGH",
            }
            out.write(json.dumps(entry))
        out.write("]}]}")
    tally = Tally()
    seen = 0
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            for record in trivy.read(stream, where="huge.json", tally=tally):
                if isinstance(record, Observation):
                    seen += 1
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    assert tally.skipped == {}
    assert peak < 50 * 1024 * 1024, peak


# --- Grype -------------------------------------------------------------------------------------


def test_grype_all_fields():
    records, tally = read_sample(grype, "grype/defectdojo_check_all_fields.json")
    assert records[0].tool == "Grype 0.28.0"
    [host] = hosts(records)
    assert host.ref == "vulnerable-image:latest"
    assert host.image_digests == (
        "sha256:9d8825ab20ac86b40eb71495bece1608a302fb180384740697a28c2b0a5a0fc6",
        "sha256:ce9898fd214aef9c994a42624b09056bdce3ff4a8e3f68dc242d967b80fcbeee",
    )
    assert host.ecosystems == {"deb", "pypi"}
    [django] = by_name(records, "GHSA-v6rh-hp5x-86rv")
    assert django.names == ("GHSA-v6rh-hp5x-86rv", "CVE-2021-44420")
    assert (django.package, django.version, django.fixed_in) == (
        "pkg:pypi/django",
        "3.2.9",
        "3.2.10",
    )
    assert django.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L"
    assert django.cvss_score == Decimal("7.3")
    [krb5] = by_name(records, "CVE-2004-0971")
    assert krb5.severity == "low"  # Negligible
    assert krb5.package == "pkg:deb/debian/libgssapi-krb5-2"
    assert {o.package for o in by_name(records, "CVE-2021-33574")} == {
        "pkg:deb/debian/libc-bin",
        "pkg:deb/debian/libc6",
    }
    assert len(observations(records)) == 5  # six matches, Django's twice (two paths)
    assert tally.skipped == {"same vulnerability on another path of the same package": 1}


def test_grype_same_cve_on_two_paths_of_one_package_is_one_observation():
    records, tally = read_sample(grype, "grype/defectdojo_same_cve_different_paths.json")
    [libc] = observations(records)
    assert libc.names == ("CVE-2021-33574",)
    assert (libc.package, libc.version) == ("pkg:deb/debian/libc6", "2.28-10")
    assert tally.skipped == {"same vulnerability on another path of the same package": 1}


def test_grype_package_without_purl_and_fix_versions():
    records, _tally = read_sample(grype, "grype/grype_TestJsonImgsPresenter.json")
    assert records[0].tool == "Grype"
    [host] = hosts(records)
    assert host.ref == "user-input"
    assert host.ecosystems == {"deb", "rpm"}
    [first] = by_name(records, "CVE-1999-0001")
    assert first.package == "pkg:rpm/centos/package-1"  # type and the distro, no purl
    assert first.fixed_in == "1.2.1, 2.1.3, 3.4.0"
    assert first.cvss_score == Decimal("8.2")
    [second] = by_name(records, "CVE-1999-0002")
    assert second.package == "pkg:deb/package-2"
    assert second.severity == "critical"


def test_grype_many_vulnerabilities():
    records, _tally = read_sample(grype, "grype/defectdojo_many_vulns_with_epss_values.json")
    assert records[0].tool == "Grype 0.94.0"
    assert records[0].started_at is not None and records[0].started_at.tzinfo is not None
    assert len(observations(records)) == 15
    assert hosts(records)[0].ref == "busybox:1.32.1"
    assert "sha256:123b1fd3a44eaaf7322e08e9175d9ca57d49ebf2955d4fa1f5607e99dc31bcbb" in (
        hosts(records)[0].image_digests
    )


def test_grype_refuses_bad_input():
    good = sample("grype/defectdojo_same_cve_different_paths.json").read_bytes()
    data = json.loads(good)
    del data["matches"][1]["artifact"]
    error = refused(grype, json.dumps(data).encode())
    assert "artifact" in error.message and "matches[1]" in error.where
    error = refused(grype, good[: len(good) // 2])
    assert "not complete" in error.message
    error = refused(grype, sample("trivy/trivy_pip.json").read_bytes())
    assert error.message == "This is not a Grype report: it looks like Trivy output."
    error = refused(grype, good.replace(b"libc6", b"libc\xc36", 1))
    assert "not UTF-8" in error.message


# --- CycloneDX ---------------------------------------------------------------------------------


def test_a_cyclonedx_bom_without_vulnerabilities_is_an_sbom_not_a_scan():
    """A plain SBOM read as a scan would "no longer see" every finding of its package types:
    it is refused, pointing to the system's SBOM upload."""
    error = refused(
        cyclonedx, sample("cyclonedx/cdx_examples_cern-lhc-vdm-editor_bom.json").read_bytes()
    )
    assert "no “vulnerabilities” list" in error.message and "SBOM" in error.message


def test_cyclonedx_vex_not_affected():
    records, _tally = read_sample(cyclonedx, "cyclonedx/cdx_examples_vex_cisa_case2.json")
    [host] = hosts(records)
    assert (host.ref, host.target) == ("product-ABC", "ABC 4.2")
    found = observations(records)
    assert len(found) == 19
    assert not any(o.affected for o in found)
    [first] = by_name(records, "CVE-2020-11896")
    # The product has neither Package URL nor CPE: its name, as a generic package.
    assert (first.package, first.version) == ("pkg:generic/ABC", "4.2")
    assert first.severity == "none"


def test_cyclonedx_image_bom_with_a_reference_that_is_a_package_url():
    records, tally = read_sample(cyclonedx, "cyclonedx/defectdojo_cdx_issue_9277.json")
    [host] = hosts(records)
    assert host.target == "ubuntu:latest"
    assert host.image_digests == (
        "sha256:6042500cf4b44023ea1894effe7890666b0c5c7871ed83a97c36c76ae560bb9b",
    )
    assert "deb" in host.ecosystems and "oci" not in host.ecosystems
    [tar] = by_name(records, "TEMP-0290435-0B57B5")  # names no component: its own purl
    assert (tar.package, tar.version) == ("pkg:deb/debian/tar", "1.30+dfsg-6")
    assert tar.severity == "low"
    assert len(observations(records)) == 14
    assert tally.skipped == {}


def test_cyclonedx_nested_components():
    records, _tally = read_sample(cyclonedx, "cyclonedx/defectdojo_cdx_nested-component-log4j.json")
    [log4shell] = by_name(records, "CVE-2021-44228")
    assert log4shell.package == "pkg:maven/org.apache.logging.log4j/log4j-core"
    assert log4shell.version == "2.13.2"
    assert log4shell.severity == "critical"
    assert log4shell.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    assert log4shell.cvss_score == Decimal("10.0")
    assert log4shell.affected  # in_triage is not a statement that it is not affected
    assert len(observations(records)) == 8


def test_cyclonedx_references_as_names_and_a_bare_v3_vector():
    records, _tally = read_sample(
        cyclonedx, "cyclonedx/defectdojo_cdx_valid-vulnerability-1.4.json"
    )
    [host] = hosts(records)
    assert host.ref == "bom"
    [jackson] = observations(records)
    assert jackson.names == ("SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111", "CVE-2018-7489")
    assert jackson.package == "pkg:maven/com.fasterxml.jackson.core/jackson-databind"
    assert jackson.cvss_vector == "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert jackson.cvss_score == Decimal("9.8")
    assert jackson.affected is False  # analysis.state not_affected


def test_cyclonedx_unknown_reference_and_bad_input():
    data = sample_json("cyclonedx/defectdojo_cdx_valid-vulnerability-1.4.json")
    data["vulnerabilities"][0]["affects"].append({"ref": "no-such-component"})
    error = refused(cyclonedx, json.dumps(data).encode())
    assert "“no-such-component” is no component" in error.message
    assert "vulnerabilities[0]" in error.where
    data["vulnerabilities"][0]["affects"] = []
    assert "“affects” is missing" in refused(cyclonedx, json.dumps(data).encode()).message
    data = sample_json("cyclonedx/defectdojo_cdx_valid-vulnerability-1.4.json")
    del data["vulnerabilities"][0]["id"]
    assert "“id” is missing" in refused(cyclonedx, json.dumps(data).encode()).message
    data = sample_json("cyclonedx/defectdojo_cdx_valid-vulnerability-1.4.json")
    del data["vulnerabilities"][0]["affects"][0]["ref"]
    error = refused(cyclonedx, json.dumps(data).encode())
    assert "ref" in error.message and "vulnerabilities[0]" in error.where
    good = sample("cyclonedx/defectdojo_cdx_nested-component-log4j.json").read_bytes()
    assert "not complete" in refused(cyclonedx, good[: len(good) // 2]).message
    error = refused(cyclonedx, sample("sarif/trivy_alpine-310.sarif").read_bytes())
    assert error.message == "This is not a CycloneDX report: it looks like SARIF output."
    assert "not UTF-8" in refused(cyclonedx, good.replace(b"log4j", b"log\x804j", 1)).message


# --- SARIF -------------------------------------------------------------------------------------


def test_sarif_from_trivy():
    records, _tally = read_sample(sarif, "sarif/trivy_alpine-310.sarif")
    assert records[0].tool == "Trivy dev"
    [host] = hosts(records)
    assert host.ref == "testdata/fixtures/images/alpine-310.tar.gz"
    assert host.image_digests == (
        "sha256:961769676411f082461f9ef46626dd7a2d1e2b2a38e6a44364bcbecf51e66dd4",
    )
    found = observations(records)
    assert len(found) == 4
    first = found[0]
    assert first.names == ("CVE-2019-1549",)
    assert first.title == "openssl: information disclosure in fork()"
    assert first.severity == "medium"  # security-severity 5.3
    # Trivy's SARIF does not say the OS: the package is kept as the scanned file.
    assert first.package == "file:testdata/fixtures/images/alpine-310.tar.gz"
    assert (first.version, first.fixed_in) == ("1.1.1c-r0", "1.1.1d-r0")
    assert "Package: libcrypto1.1" in first.detail
    assert first.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"
    assert first.cvss_score == Decimal("5.3")


def _sarif(results: list[dict], rules: list[dict]) -> bytes:
    log = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [
            {
                "tool": {"driver": {"name": "Scanner", "version": "1.2", "rules": rules}},
                "results": results,
            }
        ],
    }
    return json.dumps(log).encode()


def test_sarif_severity_from_security_severity_else_level():
    rules = [
        {"id": "R1", "properties": {"security-severity": "9.1"}},
        {"id": "R2", "defaultConfiguration": {"level": "note"}},
        {"id": "CVE-2022-1", "properties": {"purl": "pkg:npm/left-pad"}},
    ]
    where = {"physicalLocation": {"artifactLocation": {"uri": "src/app.py"}}}
    results: list[dict[str, Any]] = [
        {"ruleId": "R1", "level": "note", "message": {"text": "x"}, "locations": [where]},
        {"ruleId": "R2", "level": "error", "message": {"text": "y"}, "locations": [where]},
        {"ruleId": "R2", "message": {"text": "z"}, "locations": [where]},
        {"ruleId": "CVE-2022-1", "message": {"text": "w"}},
        {"ruleId": "R1", "kind": "pass", "message": {"text": "ok"}},
        {"ruleIndex": 1, "message": {"text": "by index"}, "locations": [where]},
    ]
    records, tally = read_bytes(sarif, _sarif(results, rules))
    assert records[0].tool == "Scanner 1.2"
    [host] = hosts(records)
    assert host.ref == "src/app.py"  # the first location, no artifact named
    found = observations(records)
    assert [o.severity for o in found] == ["critical", "high", "low", "medium", "low"]
    assert found[0].package == "file:src/app.py"
    assert found[3].names == ("CVE-2022-1",)
    assert found[3].package == "pkg:npm/left-pad"  # the rule names the package
    assert found[4].names == ("R2",)  # named by its index among the driver's rules
    assert tally.skipped == {"result that is not a finding": 1}
    # A result that names no rule names nothing: refused, not read as "no longer seen".
    error = refused(sarif, _sarif([*results, {"message": {"text": "no rule"}}], rules))
    assert "“ruleId” is missing" in error.message and "results[6]" in error.where


def test_sarif_refuses_bad_input():
    good = sample("sarif/trivy_alpine-310.sarif").read_bytes()
    data = json.loads(good)
    data["version"] = "2.0.0"
    assert "2.0.0" in refused(sarif, json.dumps(data).encode()).message
    data = json.loads(good)
    del data["runs"][0]["tool"]["driver"]["name"]
    error = refused(sarif, json.dumps(data).encode())
    assert "name" in error.message
    assert "not complete" in refused(sarif, good[: len(good) // 2]).message
    error = refused(
        sarif, sample("cyclonedx/defectdojo_cdx_valid-vulnerability-1.4.json").read_bytes()
    )
    assert error.message == "This is not a SARIF report: it looks like CycloneDX output."
    assert "not UTF-8" in refused(sarif, good.replace(b"openssl", b"open\xffssl", 1)).message


# --- masscan -----------------------------------------------------------------------------------


def test_masscan_sample():
    records, _tally = read_sample(masscan, "masscan/defectdojo_masscan_many_vuln.json")
    info = records[0]
    assert info.format == "masscan" and info.tool == "masscan"
    assert info.started_at == dt.datetime.fromtimestamp(1785522037, tz=dt.UTC)
    [host] = hosts(records)
    assert host.addresses == ("172.29.0.3",) and host.ports_covered is False
    services = [r for r in records if isinstance(r, OpenService)]
    assert [(s.protocol, s.port) for s in services] == [
        ("tcp", 8080),
        ("tcp", 3000),
        ("tcp", 8443),
        ("tcp", 80),
    ]


def test_masscan_old_output_trailing_comma_finished_and_invalid_address():
    data = (
        b"[\n"
        b'{   "ip": "10.0.0.1",   "timestamp": "1600000000", "ports": [ {"port": 80, "proto": "tcp", "status": "open", "reason": "syn-ack", "ttl": 64} ] },\n'
        b'{   "ip": "10.0.0.1",   "timestamp": "1600000009", "ports": [ {"port": 80, "proto": "tcp", "service": {"name": "http", "banner": "nginx"} } ] },\n'
        b'{   "ip": "10.0.0.999",   "timestamp": "1600000001", "ports": [ {"port": 22, "proto": "tcp", "status": "open", "reason": "syn-ack", "ttl": 64} ] },\n'
        b'{   "ip": "10.0.0.2",   "timestamp": "1600000002", "ports": [ {"port": 23, "proto": "tcp", "status": "closed", "reason": "rst", "ttl": 64} ] },\n'
        b"{finished: 1}\n"
        b"]\n"
    )
    records, tally = read_bytes(masscan, data)
    assert records[0].finished_at == dt.datetime.fromtimestamp(1600000009, tz=dt.UTC)
    found = hosts(records)
    assert [h.ref for h in found] == ["10.0.0.1", "10.0.0.999", "10.0.0.2"]
    assert found[1].addresses == () and "10.0.0.999" in found[1].problems[0]
    services = [r for r in records if isinstance(r, OpenService)]
    assert [(s.host, s.port, s.name) for s in services] == [
        ("10.0.0.1", 80, "http"),
        ("10.0.0.999", 22, ""),
    ]
    assert tally.skipped == {"port not open": 1}
    # Only a comma before the closing bracket (masscan 1.3 without the finished line).
    records, _tally = read_bytes(masscan, data.replace(b"{finished: 1}\n", b""))
    assert len(hosts(records)) == 3


def test_masscan_reindented_json(tmp_path):
    data = json.dumps(sample_json("masscan/defectdojo_masscan_many_vuln.json"), indent=2)
    records, _tally = read_bytes(masscan, data.encode())
    assert len([r for r in records if isinstance(r, OpenService)]) == 4


def test_masscan_refuses_bad_input():
    good = sample("masscan/defectdojo_masscan_many_vuln.json").read_bytes()
    error = refused(masscan, good[: len(good) // 2])
    assert "line" in error.where or "not complete" in error.message
    error = refused(masscan, good.replace(b'"ip"', b'"address"', 1))
    assert "ip" in error.message and "line 2" in error.where
    error = refused(masscan, good.replace(b"172.29", b"17\xff.29", 1))
    assert "not UTF-8" in error.message
    error = refused(masscan, sample("trivy/trivy_pip.json").read_bytes())
    assert error.message == "This is not a masscan report: it looks like Trivy output."
    error = refused(masscan, good.rstrip().removesuffix(b"]"))
    assert "does not end" in error.message


# --- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "folder", ["trivy", "grype", "cyclonedx", "sarif", "masscan", "nessus", "openvas", "nmap"]
)
def test_detect_every_sample(folder):
    paths = sorted(Path(SAMPLES / folder).iterdir())
    assert paths
    for path in paths:
        assert detect(path.read_bytes()[: 64 * 1024]) == folder, path.name


def test_detect_other_files():
    assert detect(sample("osv/osvscanner_PyPI_PYSEC-2021-98.json").read_bytes()) is None
    assert detect(sample("nvd/dtrack_cve-2022-1954.json").read_bytes()) is None
    assert detect(b"") is None
    assert detect(b"hello") is None
    assert detect(b"\xef\xbb\xbf<?xml version='1.0'?>\n<!-- c -->\n<nmaprun>") == "nmap"
    assert detect(b"<get_reports_response status='200'><report>") == "openvas"
    assert detect(b"<!DOCTYPE x [ <!ENTITY a 'b'> ]><NessusClientData_v2>") == "nessus"


def test_readers_cover_every_format():
    assert set(READERS) == set(VULNERABILITY_FORMATS) | set(SURFACE_FORMATS)
    assert READERS["trivy"] is trivy.read and READERS["masscan"] is masscan.read


def test_trivy_kubernetes_resources_format_with_image_digests():
    old = sample_json("trivy/defectdojo_kubernetes.json")
    resources = old["Vulnerabilities"] + old["Misconfigurations"][2:]
    resources[0]["Metadata"] = [
        {"ImageID": "sha256:" + "1" * 64, "RepoDigests": ["redis@sha256:" + "2" * 64]}
    ]
    data = {"SchemaVersion": 2, "ClusterName": "kind-kind", "Resources": resources}
    records, _tally = read_bytes(trivy, json.dumps(data).encode())
    found = hosts(records)
    assert [h.ref for h in found] == [
        "default/Deployment/redis-follower",
        "default/Deployment/redis-leader",
        "default/Service/redis-follower",
        "default/Service/redis-leader",
    ]
    assert found[0].image_digests == ("sha256:" + "2" * 64, "sha256:" + "1" * 64)
    assert len(observations(records)) == 10
    del resources[1]["Kind"]
    error = refused(trivy, json.dumps(data).encode())
    assert "Kind" in error.message and error.where == "report.json, Resources[1]"


class _ReadOnly:
    """A stream with only read and seek, as the importer hands the readers."""

    def __init__(self, data: bytes) -> None:
        self._raw = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._raw.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


@pytest.mark.parametrize(
    ("module", "relative"),
    [
        (trivy, "trivy/defectdojo_kubernetes.json"),
        (grype, "grype/defectdojo_check_all_fields.json"),
        (cyclonedx, "cyclonedx/defectdojo_cdx_issue_9277.json"),
        (sarif, "sarif/trivy_alpine-310.sarif"),
        (masscan, "masscan/defectdojo_masscan_many_vuln.json"),
    ],
)
def test_readers_need_only_read_and_seek(module, relative):
    data = sample(relative).read_bytes()
    expected, _tally = read_bytes(module, data)
    got = list(module.read(_ReadOnly(data), where=relative, tally=Tally()))
    assert got == expected


def test_masscan_single_line_list_is_read_as_json():
    records = sample_json("masscan/defectdojo_masscan_many_vuln.json")
    data = json.dumps(records * 20_000, separators=(",", ":")).encode()  # one 2 MB line
    found, _tally = read_bytes(masscan, data)
    assert len([r for r in found if isinstance(r, OpenService)]) == 4
