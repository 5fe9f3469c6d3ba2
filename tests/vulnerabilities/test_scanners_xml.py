"""The XML scanner readers (nmap, Nessus, OpenVAS) on the real samples, broken and hostile
variants of them, and a large file read in bounded memory."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.vulnerabilities.samples import sample
from vulnerabilities.records import FeedError
from vulnerabilities.scanners import nessus, nmap, openvas
from vulnerabilities.scanners.records import (
    Host,
    Observation,
    OpenService,
    Record,
    ReportInfo,
    Tally,
)

UTC = dt.UTC
Reader = Callable[..., Iterator[Record]]

NMAP_GOOGLE = "nmap/defectdojo_nmap_issue12411.xml"
NMAP_4406 = "nmap/defectdojo_nmap_issue4406.xml"
NMAP_MULTIPLE = "nmap/defectdojo_nmap_nmap_multiple_port.xml"
NMAP_LIBNMAP = "nmap/libnmap_2_hosts_version.xml"
NMAP_SNER = "nmap/sner4_parser-nmap-output.xml"
NESSUS_SIMPLE = "nessus/sner4_parser-nessus-simple.nessus"
NESSUS_WAS = "nessus/defectdojo_nessus_was_many_vuln.nessus"
NESSUS_XXE = "nessus/sner4_parser-nessus-xxe.nessus"
OPENVAS_ONE = "openvas/defectdojo_openvas_one_vuln.xml"
OPENVAS_V2 = "openvas/defectdojo_openvas_report_detail_v2.xml"


def data(relative: str) -> bytes:
    return sample(relative).read_bytes()


def run(reader: Reader, raw: bytes, where: str = "upload.xml") -> tuple[list[Record], Tally]:
    tally = Tally()
    records = list(reader(io.BytesIO(raw), where=where, tally=tally))
    return records, tally


def read_sample(reader: Reader, relative: str) -> tuple[list[Record], Tally]:
    tally = Tally()
    with sample(relative).open("rb") as stream:
        records = list(reader(stream, where=relative, tally=tally))
    return records, tally


def refused(reader: Reader, raw: bytes, where: str = "upload.xml") -> FeedError:
    with pytest.raises(FeedError) as caught:
        run(reader, raw, where)
    return caught.value


def of(records: list[Record], kind: type) -> list:
    return [record for record in records if isinstance(record, kind)]


def info_of(records: list[Record]) -> ReportInfo:
    first = records[0]
    assert isinstance(first, ReportInfo)
    return first


def line_of(raw: bytes, needle: bytes) -> int:
    return raw[: raw.index(needle)].count(b"\n") + 1


def check_order(records: list[Record]) -> None:
    """ReportInfo first, and each host before anything that names it."""
    assert isinstance(records[0], ReportInfo)
    assert not of(records[1:], ReportInfo)
    seen: set[str] = set()
    for record in records[1:]:
        if isinstance(record, Host):
            assert record.ref not in seen
            seen.add(record.ref)
        elif isinstance(record, Observation | OpenService):
            assert record.host in seen


# nmap ----------------------------------------------------------------------------------------


def test_nmap_two_hosts_with_names_and_only_open_ports() -> None:
    records, tally = read_sample(nmap.read, NMAP_GOOGLE)
    check_order(records)
    info = info_of(records)
    assert info == ReportInfo(
        format="nmap",
        tool="nmap 7.95",
        started_at=dt.datetime(2025, 5, 7, 13, 26, 27, tzinfo=UTC),
        finished_at=dt.datetime(2025, 5, 7, 13, 27, 45, tzinfo=UTC),
        ports_scanned=info.ports_scanned,
    )
    assert info.ports_scanned.startswith("1,3-4,6-7,9,13,")
    assert info.ports_scanned.endswith(",65000,65129,65389")
    google, amazon = of(records, Host)
    # Three names on one address: the one given, the PTR and a custom one.
    assert google.addresses == ("172.217.18.238",)
    assert google.hostnames == ("google.com", "par10s10-in-f238.1e100.net", "lalala")
    assert google.target == "google.com"
    assert google.up and google.ports_covered and not google.problems
    assert amazon.hostnames == ("amazon.com",)
    services = of(records, OpenService)
    # 135, 139 and 445 on amazon.com are filtered, not open.
    assert [(s.host, s.protocol, s.port, s.name) for s in services] == [
        ("172.217.18.238", "tcp", 80, "http"),
        ("172.217.18.238", "tcp", 443, "https"),
        ("54.239.28.85", "tcp", 80, "http"),
        ("54.239.28.85", "tcp", 443, "https"),
    ]
    assert not of(records, Observation)
    assert tally.skipped == {}


def test_nmap_service_versions_and_full_port_range() -> None:
    records, _tally = read_sample(nmap.read, NMAP_4406)
    check_order(records)
    assert info_of(records).ports_scanned == "1-65535"
    (host,) = of(records, Host)
    assert host.addresses == ("10.250.195.71",)
    assert host.hostnames == ("ip-10-250-195-71.eu-west-1.compute.internal",)
    assert host.target == "10.250.195.71"  # no name given: what was scanned
    services = {s.port: s for s in of(records, OpenService)}
    assert len(services) == 25
    assert services[22] == OpenService(
        host="10.250.195.71",
        protocol="tcp",
        port=22,
        name="ssh",
        product="OpenSSH 7.4 (protocol 2.0)",
    )
    assert services[30367].product == "MySQL 5.7.32"
    assert services[31641].name == ""  # open, nothing identified


def test_nmap_the_other_samples() -> None:
    records, _tally = read_sample(nmap.read, NMAP_MULTIPLE)
    check_order(records)
    (host,) = of(records, Host)
    assert host.hostnames == ("joaquinlp.me", "mocha2005.mochahost.com")
    assert [s.port for s in of(records, OpenService)] == [
        21,
        25,
        53,
        80,
        110,
        143,
        443,
        465,
        587,
        993,
        995,
        2525,
        3306,
    ]
    records, _tally = read_sample(nmap.read, NMAP_LIBNMAP)
    check_order(records)
    assert info_of(records).tool == "nmap 5.51"
    localhost, scanme = of(records, Host)
    assert localhost.hostnames == ("localhost",)  # user and PTR give the same name once
    assert scanme.hostnames == ("scanme.nmap.org",)
    assert [s.port for s in of(records, OpenService) if s.host == scanme.ref] == [22, 80, 9929]
    records, _tally = read_sample(nmap.read, NMAP_SNER)
    (host,) = of(records, Host)
    assert host.addresses == ("127.0.0.1",)
    assert host.hostnames == ("localserver.test", "localhost")
    ssh = of(records, OpenService)[0]
    assert ssh.product == "OpenSSH 7.4p1 Debian 10+deb9u4 (protocol 2.0)"


def test_nmap_host_down_covers_nothing() -> None:
    raw = data(NMAP_LIBNMAP).replace(
        b'<status state="up" reason="echo-reply"/>', b'<status state="down" reason="no-response"/>'
    )
    records, _tally = run(nmap.read, raw)
    localhost, scanme = of(records, Host)
    assert localhost.up and localhost.ports_covered
    assert not scanme.up and not scanme.ports_covered


def test_nmap_invalid_address_is_kept_with_a_problem() -> None:
    raw = data(NMAP_LIBNMAP).replace(b'addr="74.207.244.221"', b'addr="74.207.244.321"')
    records, _tally = run(nmap.read, raw)
    check_order(records)
    scanme = of(records, Host)[1]
    assert scanme.addresses == ()
    assert scanme.hostnames == ("scanme.nmap.org",)
    assert len(scanme.problems) == 1
    assert "74.207.244.321" in scanme.problems[0]
    assert f"line {line_of(raw, b'74.207.244.321')}" in scanme.problems[0]
    assert [s.port for s in of(records, OpenService) if s.host == scanme.ref] == [22, 80, 9929]


def test_nmap_several_scaninfo_name_their_protocol_and_ipv6_is_normalised() -> None:
    raw = data(NMAP_SNER)
    end = raw.index(b"/>", raw.index(b"<scaninfo")) + 2
    raw = raw[:end] + b'\n<scaninfo type="udp" protocol="udp" numservices="1" services="53"/>'
    raw += data(NMAP_SNER)[end:]
    raw = raw.replace(
        b'<address addr="127.0.0.1" addrtype="ipv4"/>',
        b'<address addr="2001:DB8:0:0::1" addrtype="ipv6"/>'
        b'<address addr="00:11:22:33:44:55" addrtype="mac"/>',
    )
    records, _tally = run(nmap.read, raw)
    assert info_of(records).ports_scanned.startswith("tcp:1,3-4,")
    assert info_of(records).ports_scanned.endswith(",udp:53")
    (host,) = of(records, Host)
    assert host.addresses == ("2001:db8::1",)
    assert host.ref == "2001:db8::1"


def test_nmap_port_without_portid_is_refused_with_its_line() -> None:
    raw = data(NMAP_LIBNMAP).replace(b'portid="631"', b"")
    error = refused(nmap.read, raw, "scan.xml")
    line = line_of(raw, b'<port protocol="tcp" ><state')
    assert error.where == f"scan.xml, line {line}"
    assert "<port>" in error.message and "portid" in error.message


def test_nmap_truncated_is_refused() -> None:
    raw = data(NMAP_GOOGLE)
    half = raw[: len(raw) // 2]
    error = refused(nmap.read, half, "half.xml")
    assert error.message.startswith("The file is not complete, well-formed XML")
    last_line = half.count(b"\n") + 1
    assert error.where in {f"half.xml, line {last_line}", f"half.xml, line {last_line + 1}"}


def test_nmap_not_utf8_is_refused_with_its_line() -> None:
    raw = data(NMAP_GOOGLE).replace(b'name="lalala"', b'name="lal\xe4la"')
    error = refused(nmap.read, raw, "latin.xml")
    assert "not UTF-8 (nor in the encoding it declares)" in error.message
    assert error.where == f"latin.xml, line {line_of(raw, b'lal')}"


def test_nmap_reader_refuses_other_formats_saying_what_they_look_like() -> None:
    error = refused(nmap.read, data(NESSUS_SIMPLE))
    assert "its root element is <NessusClientData_v2>" in error.message
    assert "looks like a Nessus report" in error.message
    error = refused(nmap.read, data("trivy/trivy_pip.json"))
    assert error.message == (
        "This is not an nmap XML report: it is JSON; it looks like a Trivy JSON report."
    )
    error = refused(nmap.read, b"  \n")
    assert error.message == "The file is empty."


# Nessus --------------------------------------------------------------------------------------


def test_nessus_one_observation_per_cve_and_informational_skipped() -> None:
    records, tally = read_sample(nessus.read, NESSUS_SIMPLE)
    check_order(records)
    assert records[0] == ReportInfo(
        format="nessus",
        tool="Nessus 8.8.0 (Web Application Tests)",
        started_at=dt.datetime(2019, 3, 11, 13, 23, 16, tzinfo=UTC),  # HOST_START_TIMESTAMP
        finished_at=dt.datetime(2020, 1, 6, 12, 1, 21, tzinfo=UTC),  # the later HOST_END
    )
    first, second = of(records, Host)
    assert first == Host(
        ref="127.128.129.130",
        target="127.128.129.130",
        addresses=("127.128.129.130",),
        hostnames=("serverx.localdomain", "servery.localdomain"),
        ports_covered=True,
    )
    # The same address under another name: another host, both names kept.
    assert second.ref == "serveralias.localhost"
    assert second.addresses == ("127.128.129.130",)
    assert second.hostnames == ("serveralias.localhost", "serverz.localhost")
    observations = of(records, Observation)
    assert [o.names for o in observations] == [
        ("CVE-2016-1283",),
        ("CVE-1900-0000",),
        ("CVE-2017-16642",),
    ]
    php = observations[0]
    assert php.host == "127.128.129.130"
    assert php.port == "tcp/443"
    assert php.severity == "high"
    assert php.title == "PHP 5.6.x < 5.6.32 Multiple Vulnerabilities"
    assert php.cvss_vector == "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert php.cvss_score == Decimal("9.8")
    assert "Installed version : 5.6.22" in php.detail
    assert "http://www.php.net/ChangeLog-5.php#5.6.32" in php.detail
    assert tally.skipped == {"informational plugin (severity 0)": 1}


def test_nessus_was_findings_without_cve() -> None:
    records, tally = read_sample(nessus.read, NESSUS_WAS)
    check_order(records)
    assert info_of(records).tool == "Nessus WAS"
    assert info_of(records).started_at == dt.datetime(2021, 3, 12, 12, 34, 30, 120310, tzinfo=UTC)
    assert info_of(records).finished_at == dt.datetime(2021, 3, 12, 14, 35, 34, 341269, tzinfo=UTC)
    (host,) = of(records, Host)
    assert host.target == "http://google.com/"
    assert host.addresses == ()
    assert host.hostnames == ("google.com",)
    observations = of(records, Observation)
    assert [(o.names, o.severity) for o in observations] == [
        (("NESSUS-98104",), "high"),
        (("NESSUS-98060",), "low"),
        (("NESSUS-115540",), "low"),
        (("NESSUS-112551",), "low"),
    ]
    xss = observations[0]
    assert xss.title == "Cross-Site Scripting (XSS)"
    assert xss.port == "tcp/80"
    assert xss.cvss_vector == ""
    assert xss.cvss_score == Decimal("7.1")  # cvssv3, before the older cvss
    assert tally.skipped == {"informational plugin (severity 0)": 1}


def test_nessus_invalid_host_ip_is_kept_with_a_problem() -> None:
    raw = data(NESSUS_SIMPLE).replace(
        b'<tag name="host-ip">127.128.129.130</tag>\n<tag name="HOST_START_TIMESTAMP">1578311552',
        b'<tag name="host-ip">127.128.129.300</tag>\n<tag name="HOST_START_TIMESTAMP">1578311552',
    )
    records, _tally = run(nessus.read, raw)
    first, second = of(records, Host)
    assert first.addresses == ("127.128.129.130",)
    assert not first.problems
    assert second.ref == "serveralias.localhost"
    assert second.addresses == ()
    assert second.problems == ("“127.128.129.300” is not an IP address.",)
    assert second.hostnames == ("serveralias.localhost", "serverz.localhost")


def test_nessus_report_item_without_plugin_id_is_refused_with_its_line() -> None:
    raw = data(NESSUS_SIMPLE).replace(b' pluginID="104631"', b"")
    error = refused(nessus.read, raw, "scan.nessus")
    line = line_of(raw, b'<ReportItem port="443"')
    assert error.where == f"scan.nessus, line {line}"
    assert error.message == "The element <ReportItem> has no “pluginID” attribute."


def test_nessus_truncated_and_wrong_format_are_refused() -> None:
    raw = data(NESSUS_SIMPLE)
    error = refused(nessus.read, raw[: len(raw) // 2], "half.nessus")
    assert "not complete, well-formed XML" in error.message
    assert error.where.startswith("half.nessus, line ")
    error = refused(nessus.read, data(NMAP_GOOGLE), "scan.nessus")
    assert error.message == (
        "This is not a Nessus report (.nessus): its root element is <nmaprun>; "
        "it looks like an nmap XML report."
    )
    assert error.where == "scan.nessus, line 5"  # <nmaprun>, after the prolog
    error = refused(nessus.read, data(OPENVAS_ONE))
    assert "looks like a Greenbone/OpenVAS report" in error.message


# Hostile XML ---------------------------------------------------------------------------------


def test_the_xxe_sample_is_refused() -> None:
    with sample(NESSUS_XXE).open("rb") as stream, pytest.raises(FeedError) as caught:
        list(nessus.read(stream, where="xxe.nessus", tally=Tally()))
    assert caught.value.where == "xxe.nessus, line 3"  # the <!ENTITY line
    assert "declares entities" in caught.value.message
    assert "entity-expansion bomb" in caught.value.message


class Fifo:
    """A named pipe that notices being opened for reading: a parser that tried to read it
    would block, so a watcher opens it for writing (which only succeeds once a reader has it
    open), records that, and writes to unblock the reader."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        self.opened = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.005)
                continue
            self.opened = True
            os.write(fd, b"SECRET")
            os.close(fd)
            return

    def __enter__(self) -> Fifo:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.mark.parametrize(
    ("doctype", "message", "line"),
    [
        (
            '<!DOCTYPE NessusClientData_v2 [\n<!ENTITY xxe SYSTEM "file://{path}">\n]>',
            "The file declares an external entity (SYSTEM/PUBLIC: it would read a file or a "
            "URL); it is not read.",
            3,
        ),
        (
            "<!DOCTYPE NessusClientData_v2 [\n<!ENTITY % dtd PUBLIC 'x' \"file://{path}\">\n]>",
            "The file declares an external entity (SYSTEM/PUBLIC: it would read a file or a "
            "URL); it is not read.",
            3,
        ),
        (
            '<!DOCTYPE NessusClientData_v2\n SYSTEM "file://{path}">',
            "The file names an external DTD (SYSTEM/PUBLIC: it would read a file or a URL); "
            "it is not read.",
            2,
        ),
    ],
)
def test_external_entities_are_refused_and_nothing_is_read(
    tmp_path: Path, doctype: str, message: str, line: int
) -> None:
    secret = tmp_path / "secret"
    raw = (
        '<?xml version="1.0"?>\n'
        + doctype.format(path=secret)
        + "\n<NessusClientData_v2><Report name='r'><ReportHost name='h'><HostProperties>"
        + "<tag name='host-ip'>&xxe;</tag></HostProperties></ReportHost></Report>"
        + "</NessusClientData_v2>"
    ).encode()
    with Fifo(secret) as fifo:
        error = refused(nessus.read, raw, "xxe.nessus")
    assert not fifo.opened
    assert error.message == message
    assert error.where == f"xxe.nessus, line {line}"


def test_the_fifo_check_would_notice_a_parser_that_reads(tmp_path: Path) -> None:
    """The check above can fail: lxml told to load external entities opens the file."""
    from vulnerabilities.scanners.xml import etree  # lxml, as the readers import it

    secret = tmp_path / "secret"
    raw = f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]><r>&xxe;</r>'.encode()
    with Fifo(secret) as fifo:
        texts = [
            element.text
            for _event, element in etree.iterparse(
                io.BytesIO(raw), resolve_entities=True, load_dtd=True, no_network=True
            )
        ]
    assert fifo.opened
    assert texts == ["SECRET"]


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['<?xml version="1.0"?>', "<!DOCTYPE nmaprun [", ' <!ENTITY lol0 "lol">']
    for level in range(1, 10):
        refs = f"&lol{level - 1};" * 10
        lines.append(f' <!ENTITY lol{level} "{refs}">')
    lines += ["]>", '<nmaprun scanner="nmap"><host><hostnames>', '<hostname name="&lol9;"/>']
    lines += ["</hostnames></host></nmaprun>"]
    bomb = tmp_path / "lol.xml"
    bomb.write_text("\n".join(lines))
    began = time.monotonic()
    with bomb.open("rb") as stream, pytest.raises(FeedError) as caught:
        list(nmap.read(stream, where="lol.xml", tally=Tally()))
    assert time.monotonic() - began < 1
    assert caught.value.where == "lol.xml, line 3"
    assert "declares entities" in caught.value.message


def test_quadratic_blowup_is_refused(tmp_path: Path) -> None:
    big = "A" * 100_000
    path = tmp_path / "quadratic.xml"
    with path.open("w") as out:
        out.write(f'<?xml version="1.0"?>\n<!DOCTYPE report [<!ENTITY a "{big}">]>\n<report>')
        out.write("<results><result><name>")
        out.write("&a;" * 10_000)
        out.write("</name></result></results></report>")
    began = time.monotonic()
    with path.open("rb") as stream, pytest.raises(FeedError) as caught:
        list(openvas.read(stream, where="quadratic.xml", tally=Tally()))
    assert time.monotonic() - began < 1
    assert caught.value.where == "quadratic.xml, line 2"
    assert "declares entities" in caught.value.message


@pytest.mark.parametrize(
    "doctype",
    [
        # A quote inside a comment does not start a string that would hide the declaration.
        '<!DOCTYPE nmaprun [ <!-- " --> <!ENTITY e "x"> ]>',
        # "]>" inside a quoted default value does not end the DOCTYPE early.
        '<!DOCTYPE nmaprun [ <!ATTLIST nmaprun a CDATA "]>"> <!ENTITY e "x"> ]>',
        # After more than one read's worth of comments.
        "<!--" + "x" * 200_000 + '-->\n<!DOCTYPE nmaprun [ <!ENTITY e "x"> ]>',
    ],
)
def test_entity_declarations_are_found_wherever_the_prolog_puts_them(doctype: str) -> None:
    raw = f'<?xml version="1.0"?>\n{doctype}\n<nmaprun scanner="nmap"></nmaprun>'.encode()
    error = refused(nmap.read, raw)
    assert "declares entities" in error.message


def test_a_plain_doctype_is_accepted_and_an_endless_prolog_refused() -> None:
    records, _tally = run(nmap.read, b'<!DOCTYPE nmaprun>\n<nmaprun scanner="nmap" version="7"/>')
    assert records == [ReportInfo(format="nmap", tool="nmap 7")]
    error = refused(nmap.read, b"<!--" + b"x" * (2 << 20) + b"-->")
    assert error.message == (
        "No root element in the first 1048576 bytes: this is not an nmap XML report."
    )
    error = refused(nmap.read, b"\xff\xfe<\x00?\x00x\x00")
    assert "UTF-16" in error.message


# OpenVAS -------------------------------------------------------------------------------------


def test_openvas_one_result_per_cve_on_the_host() -> None:
    records, tally = read_sample(openvas.read, OPENVAS_ONE)
    check_order(records)
    assert records[0] == ReportInfo(
        format="openvas",
        tool="OpenVAS (GMP 9.0)",
        started_at=dt.datetime(2023, 9, 28, 14, 48, 2, tzinfo=UTC),
        finished_at=dt.datetime(2023, 9, 28, 16, 12, 15, tzinfo=UTC),  # after the results
    )
    (host,) = of(records, Host)
    assert host == Host(
        ref="10.0.101.2", target="10.0.101.2", addresses=("10.0.101.2",), ports_covered=True
    )
    observations = of(records, Observation)
    assert len(observations) == 12
    assert observations[0].names == ("CVE-2023-4573",)
    assert observations[-1].names == ("CVE-2023-4584",)
    firefox = observations[0]
    assert firefox.title == "Mozilla Firefox Security Update (mfsa_2023-32_2023-36) - Windows"
    assert firefox.severity == "high"
    assert firefox.port == "tcp/0"  # general/tcp
    assert firefox.cvss_score == Decimal("10.0")
    assert firefox.cvss_vector == ""
    assert firefox.detail.startswith("Mozilla Firefox is prone to multiple vulnerabilities.")
    assert "Installed version: 116.0.3" in firefox.detail
    assert tally.skipped == {}


def test_openvas_v2_vector_port_and_host_name() -> None:
    records, _tally = read_sample(openvas.read, OPENVAS_V2)
    check_order(records)
    berlin = dt.timezone(dt.timedelta(hours=2))
    assert info_of(records).started_at == dt.datetime(2025, 8, 22, 15, 1, 38, tzinfo=berlin)
    assert info_of(records).finished_at == dt.datetime(2025, 8, 22, 17, 9, 57, tzinfo=berlin)
    (host,) = of(records, Host)
    assert host.addresses == ("10.99.99.99",)
    assert host.hostnames == ("server99",)
    observations = of(records, Observation)
    assert len(observations) == 93
    assert {o.port for o in observations} == {"tcp/42"}
    assert {o.severity for o in observations} == {"high"}
    assert ("CVE-2025-47981",) in [o.names for o in observations]
    assert observations[0].cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert observations[0].cvss_score == Decimal("9.8")


def _with_results(raw: bytes, *extra: bytes) -> bytes:
    end = raw.index(b"</result>") + len(b"</result>")
    return raw[:end] + b"".join(extra) + raw[end:]


LOG_RESULT = (
    b'<result id="log"><host>10.0.101.3<hostname>ws.testlab.local.</hostname></host>'
    b"<port>general/icmp</port>"
    b'<nvt oid="1.3.6.1.4.1.25623.1.0.103190"><name>ICMP Timestamp</name></nvt>'
    b"<threat>Log</threat><severity>0.0</severity></result>"
)
NO_CVE_RESULT = (
    b'<result id="nocve"><host>10.0.101.3</host><port>443/tcp</port>'
    b'<nvt oid="1.3.6.1.4.1.25623.1.0.108440"><name>SSL/TLS: Weak Cipher Suites</name>'
    b'<cvss_base>5.0</cvss_base><refs><ref type="url" id="https://example.org"/></refs>'
    b"</nvt><threat>Medium</threat><severity>5.0</severity></result>"
)


def test_openvas_log_skipped_finding_without_cve_and_host_from_results() -> None:
    raw = _with_results(data(OPENVAS_ONE), LOG_RESULT, NO_CVE_RESULT)
    records, tally = run(openvas.read, raw)
    check_order(records)
    first, second = of(records, Host)
    assert first.ref == "10.0.101.2"
    assert second.ref == "10.0.101.3"
    assert second.hostnames == ("ws.testlab.local",)
    weak = of(records, Observation)[-1]
    assert weak == Observation(
        host="10.0.101.3",
        names=("OPENVAS-1.3.6.1.4.1.25623.1.0.108440",),
        title="SSL/TLS: Weak Cipher Suites",
        severity="medium",
        port="tcp/443",
        cvss_score=Decimal("5.0"),
    )
    assert tally.skipped == {"informational result (Log)": 1}


def test_openvas_wrapped_in_get_reports_response_with_host_details() -> None:
    raw = data(OPENVAS_ONE).replace(
        b"<detail/></host>",
        b"<detail><name>hostname</name><value>DC01.testlab.local</value></detail></host>",
    )
    raw = b'<get_reports_response status="200" status_text="OK">' + raw
    raw += b"</get_reports_response>"
    records, _tally = run(openvas.read, raw)
    (host,) = of(records, Host)
    assert host.hostnames == ("dc01.testlab.local",)
    assert len(of(records, Observation)) == 12


def test_openvas_bad_input_is_refused() -> None:
    raw = data(OPENVAS_V2).replace(b' oid="1.3.6.1.4.1.25623.1.0.836484"', b"")
    error = refused(openvas.read, raw, "gvm.xml")
    assert error.where == f"gvm.xml, line {line_of(raw, b'<nvt>')}"
    assert error.message == "The element <nvt> has no “oid” attribute."
    raw = data(OPENVAS_V2)
    error = refused(openvas.read, raw[: len(raw) // 2], "gvm.xml")
    assert "not complete, well-formed XML" in error.message
    error = refused(openvas.read, data(NMAP_SNER), "gvm.xml")
    assert "looks like an nmap XML report" in error.message
    error = refused(openvas.read, raw.replace(b"server99", b"server\xff99"), "gvm.xml")
    assert "not UTF-8 (nor in the encoding it declares)" in error.message
    assert error.where == f"gvm.xml, line {line_of(raw, b'server99')}"


# Memory --------------------------------------------------------------------------------------

HOST = (
    '<host starttime="1" endtime="2"><status state="{state}" reason="syn-ack"/>\n'
    '<address addr="10.{a}.{b}.{c}" addrtype="ipv4"/>\n'
    '<hostnames><hostname name="host-{n}.example.test" type="PTR"/></hostnames>\n'
    "<ports>{ports}</ports>\n"
    '<times srtt="100" rttvar="100" to="100000"/>\n</host>\n'
)
PORT = (
    '<port protocol="tcp" portid="{port}"><state state="{state}" reason="syn-ack"/>'
    '<service name="http" product="nginx" version="1.25.{port}" method="probed" conf="10"/>'
    '<script id="http-headers" output="{headers}"/>'
    "</port>\n"
)
# What nmap -sC writes for a web server, about 1 KB: the file's bytes are mostly such output.
HEADERS = "&#xa;  ".join(
    ["Server: nginx/1.25.3", "Content-Type: text/html; charset=UTF-8", "Connection: close"]
    + [f"X-Header-{n}: {'v' * 40}" for n in range(14)]
)
MEASURE = """
import json, resource, sys, tracemalloc
from django.conf import settings
settings.configure(USE_I18N=False)  # the readers need nothing else of Django
from vulnerabilities.scanners import nmap
from vulnerabilities.scanners.records import Host, OpenService, Tally
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
hosts = services = 0
with open(sys.argv[1], "rb") as stream:
    for record in nmap.read(stream, where="big.xml", tally=Tally()):
        hosts += isinstance(record, Host)
        services += isinstance(record, OpenService)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"hosts": hosts, "services": services, "peak": peak,
                  "rss_growth_kib": after - before}))
"""


def write_big_nmap(path: Path, size: int) -> tuple[int, int]:
    """An nmap report of at least `size` bytes, written host by host; (hosts, open ports)."""
    hosts = open_ports = 0
    with path.open("w") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n')
        out.write('<nmaprun scanner="nmap" start="1700000000" version="7.94">\n')
        out.write('<scaninfo type="syn" protocol="tcp" numservices="1000" services="1-1000"/>\n')
        written = 0
        while written < size:
            ports = "".join(
                PORT.format(port=port, state="open" if port % 3 else "filtered", headers=HEADERS)
                for port in range(1, 13)
            )
            n = hosts
            chunk = HOST.format(
                state="up",
                a=n // 65536 % 256,
                b=n // 256 % 256,
                c=n % 256,
                n=n,
                ports=ports,
            )
            out.write(chunk)
            written += len(chunk)
            hosts += 1
            open_ports += 8
        out.write('<runstats><finished time="1700003600"/></runstats>\n</nmaprun>\n')
    return hosts, open_ports


def test_a_50_mb_report_is_read_in_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    hosts, open_ports = write_big_nmap(big, 50 << 20)
    assert big.stat().st_size >= 50 << 20
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(big)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["hosts"] == hosts
    assert measured["services"] == open_ports
    assert measured["peak"] < 30 << 20
    assert measured["rss_growth_kib"] < 150 << 10
