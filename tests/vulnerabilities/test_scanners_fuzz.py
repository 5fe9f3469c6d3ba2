"""Every scanner-report reader, and format detection, fuzzed with hypothesis: random bytes and
the real samples mutated (bytes flipped, cut, inserted, dropped, repeated). A read completes
or raises FeedError saying where; never another exception, and never a hang."""

from __future__ import annotations

import copy
import io
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped]

from tests.vulnerabilities.samples import SAMPLES
from vulnerabilities.records import FeedError
from vulnerabilities.scanners import detect
from vulnerabilities.scanners.records import Host, Observation, OpenService, ReportInfo, Tally

# Every real report of each format, by its folder (the folders are the formats' names).
REPORTS: dict[str, list[bytes]] = {
    format_: [path.read_bytes() for path in sorted((SAMPLES / format_).iterdir())]
    for format_ in detect.READERS
}
ALL_REPORTS = [(format_, data) for format_, reports in REPORTS.items() for data in reports]
HANG = 10  # seconds: a read of a few hundred KB taking longer is a hang

# Bounded so that the whole file runs in under a minute; derandomized, so CI is stable. (Runs
# of 5,000-6,000 examples each, not derandomized, found nothing more than the file says.)
FUZZ = settings(
    max_examples=300,
    deadline=timedelta(seconds=5),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Hang(Exception):
    """A read did not finish in HANG seconds."""


@contextmanager
def at_most(seconds: int) -> Iterator[None]:
    """Stop a runaway read (hypothesis's deadline only reports after a call returns)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer within {seconds}s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read_whole(format_: str, data: bytes) -> list[object]:
    """What a reader makes of `data`: its records, or [] when it refused the file. Any other
    exception, or a hang, escapes and fails the example."""
    read = detect.READERS[format_]
    records: list[object] = []
    with at_most(HANG):
        try:
            for record in read(io.BytesIO(data), where="fuzzed", tally=Tally()):
                assert isinstance(record, ReportInfo | Host | Observation | OpenService)
                records.append(record)
        except FeedError as refused:
            assert refused.message  # says what was wrong
            return []
    return records


# --- Mutations ------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with one to four edits: a byte flipped, the file cut short, random bytes or a
    structural character inserted, a span dropped or repeated."""
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, max(len(buffer) - 1, 0)))
        edit = draw(st.sampled_from(["flip", "cut", "insert", "token", "drop", "repeat"]))
        if edit == "flip" and buffer:
            buffer[where] ^= 1 << draw(st.integers(0, 7))
        elif edit == "cut":
            del buffer[where:]
        elif edit == "insert":
            buffer[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "token":
            buffer[where:where] = draw(st.sampled_from(TOKENS))
        elif edit == "drop":
            del buffer[where : where + draw(st.integers(1, 64))]
        elif edit == "repeat":
            buffer[where:where] = buffer[where : where + draw(st.integers(1, 256))]
    return bytes(buffer)


# Pieces of JSON and XML that steer a parser into its rarer paths.
TOKENS = [
    b"{", b"}", b"[", b"]", b'"', b",", b":", b"null", b"true", b"-1", b"1e999", b"\\u0000",
    b'"\\ud800"', b"<", b">", b"/>", b"</", b"&", b"&amp;", b"&#0;", b"&#x110000;", b"<!--",
    b"<![CDATA[", b"]]>", b"<!DOCTYPE x [<!ENTITY e 'x'>]>", b"<?xml version='1.0'?>",
    b"\xff", b"\xc3", b"\x00", b"\xef\xbb\xbf", b"\r", b"\t",
]  # fmt: skip


@st.composite
def a_mutated_report(draw: st.DrawFn) -> tuple[str, bytes]:
    format_, data = draw(st.sampled_from(ALL_REPORTS))
    return format_, draw(mutated(data))


# Values a report's fields should not hold, but a hand-edited or buggy scanner's might.
ODD_TEXT = [
    "", " ", "x", "-1", "0", "65536", "99999999999999999999", "1e999", "NaN", "inf", "::1",
    "999.1.1.1", "10.0.0.0/8", "not an address", "2026-13-45T25:61:00Z", "0000-00-00",
    "\u202e", "\U0001f642", "\x00", "a" * 5000, "CVE-", "CVSS:3.1/AV:X", "10.0", "-0.5",
    "tcp", "udp", "icmp", "open", "closed", "down", "pkg:", "pkg:pypi/", "sha256:", "@",
]  # fmt: skip
ODD_VALUES: list[object] = [
    *ODD_TEXT, None, 0, -1, 2**63, -(2**63) - 1, 1.5, 1e308, True, False,
    [], {}, [None], [[]], {"": None}, ["x"], [{"x": 1}],
]  # fmt: skip
JSON_FORMATS = {"trivy", "grype", "sarif", "cyclonedx", "masscan"}


def _json_places(node: object) -> Iterator[tuple[list[Any] | dict[str, Any], Any]]:
    """Every (container, key or index) in a parsed JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield node, key
            yield from _json_places(value)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield node, index
            yield from _json_places(value)


@st.composite
def a_json_report_edited(draw: st.DrawFn) -> tuple[str, bytes]:
    """A JSON sample with one to three of its fields given an odd value, removed, or copied."""
    format_, data = draw(st.sampled_from([r for r in ALL_REPORTS if r[0] in JSON_FORMATS]))
    document = json.loads(data)
    for _ in range(draw(st.integers(1, 3))):
        places = list(_json_places(document))
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        edit = draw(st.sampled_from(["odd", "odd", "drop", "copy"]))
        if edit == "odd":
            container[key] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        elif edit == "drop":
            del container[key]
        elif isinstance(container, list):
            container.append(copy.deepcopy(container[key]))
        else:
            container[f"{key}_"] = container[key]
    return format_, json.dumps(document).encode()


@st.composite
def an_xml_report_edited(draw: st.DrawFn) -> tuple[str, bytes]:
    """An XML sample with one to three elements given odd text or attributes, removed, or
    repeated."""
    candidates = [r for r in ALL_REPORTS if r[0] not in JSON_FORMATS and b"<!ENTITY" not in r[1]]
    format_, data = draw(st.sampled_from(candidates))
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    for _ in range(draw(st.integers(1, 3))):
        elements = list(root.iter(etree.Element))
        element = draw(st.sampled_from(elements))
        edit = draw(st.sampled_from(["attribute", "text", "drop", "repeat"]))
        if edit == "attribute" and element.attrib:
            name = draw(st.sampled_from(sorted(element.attrib)))
            element.set(name, draw(st.sampled_from(ODD_TEXT)).replace("\x00", ""))
        elif edit == "text":
            element.text = draw(st.sampled_from(ODD_TEXT)).replace("\x00", "")
        elif edit == "drop" and element.getparent() is not None:
            element.getparent().remove(element)
        elif edit == "repeat" and element.getparent() is not None:
            element.addnext(copy.deepcopy(element))
    return format_, etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- The readers ------------------------------------------------------------------------------


def test_every_format_has_samples_to_mutate():
    assert set(REPORTS) == set(detect.READERS)
    assert all(REPORTS[format_] for format_ in REPORTS)
    for format_, data in ALL_REPORTS:
        assert detect.detect(data) == format_


@pytest.mark.parametrize("format_", sorted(detect.READERS))
@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes_are_read_or_refused(format_, data):
    read_whole(format_, data)


@settings(FUZZ, max_examples=1000)
@given(report=a_mutated_report())
def test_a_mutated_report_is_read_or_refused(report):
    format_, data = report
    records = read_whole(format_, data)
    if records:  # what it read begins with the report itself
        assert isinstance(records[0], ReportInfo) and records[0].format == format_


@settings(FUZZ, max_examples=600)
@given(report=st.one_of(a_json_report_edited(), an_xml_report_edited()))
def test_a_report_with_odd_fields_is_read_or_refused(report):
    format_, data = report
    records = read_whole(format_, data)
    if records:
        assert isinstance(records[0], ReportInfo) and records[0].format == format_


@FUZZ
@given(report=a_mutated_report(), other=st.sampled_from(sorted(detect.READERS)))
def test_a_report_given_to_another_reader_is_read_or_refused(report, other):
    read_whole(other, report[1])


@pytest.mark.parametrize("format_", sorted(detect.READERS))
def test_each_sample_cut_anywhere_is_read_or_refused(format_):
    """Truncation, the commonest damage (an upload or a copy stopped short), at 64 places."""
    for data in REPORTS[format_]:
        for cut in sorted({len(data) * n // 64 for n in range(64)}):
            read_whole(format_, data[:cut])


# --- Detection --------------------------------------------------------------------------------

PROLOG = [
    b"<?xml version='1.0'?>", b"<?", b"?>", b"<!--", b"-->", b"<!DOCTYPE", b"[", b"]", b">",
    b"<", b" ", b"\n", b"\xef\xbb\xbf", b"<nmaprun", b"<report", b"<NessusClientData_v2",
    b"<get_reports_response", b"{", b"[", b'"runs":', b'"$schema": "sarif"', b'"ip":',
    b'"ports":', b'"SchemaVersion":', b'"Results":', b'"matches":', b'"descriptor":',
    b'"bomFormat": "CycloneDX"', b'"version": "2.1.0"', b'"driver":', b'"ClusterName":',
]  # fmt: skip


def detected(head: bytes) -> str | None:
    with at_most(HANG):
        found = detect.detect(head)
    assert found is None or found in detect.READERS
    return found


@FUZZ
@given(head=st.binary(max_size=4096))
def test_detect_answers_any_bytes(head):
    detected(head)


@FUZZ
@given(parts=st.lists(st.sampled_from(PROLOG), max_size=200))
def test_detect_answers_any_mix_of_what_it_looks_for(parts):
    detected(b"".join(parts))


@FUZZ
@given(report=a_mutated_report())
def test_detect_answers_a_mutated_report(report):
    detected(report[1])


def test_detect_answers_a_full_head_of_what_would_backtrack_quickly():
    """64 KiB of unclosed prolog pieces: the patterns must not backtrack for long. (Found by
    this file: a DOCTYPE of 40 "[]" pairs, 92 bytes, took hours to detect; 64 KiB of "]"
    after "<!DOCTYPE x [" over a minute.)"""
    assert detected(b"<!DOCTYPE x " + b"[]" * 40) is None
    assert detected(b"<!DOCTYPE x [" + b"]" * (detect.HEAD_SIZE - 13)) is None
    for piece in (b"<!DOCTYPE x [", b"<!--", b"<?", b"<!DOCTYPE x ", b"[]", b"[<]", b'"runs" '):
        assert detected(piece * (detect.HEAD_SIZE // len(piece))) is None
    # What the pattern is for still reads: an internal subset, then the root.
    assert detected(b'<!DOCTYPE x [<!ENTITY e "v">]>\n<nmaprun scanner="nmap">') == "nmap"
