"""JSON nested past any format's depth is refused before the parser reads that deep.

ijson.parse builds a prefix string per event: within one 64 KB read of "[[[[" that is memory
quadratic in the depth (a 200 KB Trivy file of 100,000 "[" took the web process to 23 GB). The
deep inputs here stay at 5,000 levels, which the unguarded parser reads in about 60 MB, so that a
regression fails an assertion instead of taking the machine down; the tester's 100,000-level
file itself is only ever handed to the reader, never to a parser.
"""

from __future__ import annotations

import io
import json
import random
import tracemalloc
import zipfile
from collections.abc import Callable
from types import ModuleType
from typing import Any

import ijson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from tests.vulnerabilities.samples import sample
from tests.vulnerabilities.test_api_scans import SCANS, rows
from vulnerabilities.feeds import read_kev, read_nvd, read_osv
from vulnerabilities.feeds.common import JSON_MAX_DEPTH, JsonWalk, Utf8Reader, _Nesting, json_events
from vulnerabilities.models import Scan
from vulnerabilities.records import FeedError
from vulnerabilities.scanners import cyclonedx, grype, masscan, sarif, trivy
from vulnerabilities.scanners.records import Tally

DEEP = 5_000  # levels: refused at once with the guard, ~60 MB for ijson.parse without it
TOO_DEEP = "nested more than 100 levels deep"

SCANNER_SAMPLES = [
    (trivy, "trivy/trivy_pip.json"),
    (trivy, "trivy/defectdojo_kubernetes.json"),
    (grype, "grype/defectdojo_check_all_fields.json"),
    (cyclonedx, "cyclonedx/defectdojo_cdx_nested-component-log4j.json"),
    (sarif, "sarif/trivy_alpine-310.sarif"),
]
FEED_SAMPLES = [
    (read_kev, "kev/cisa_kev_slice.json"),
    (read_nvd, "nvd/dtrack_cve-2022-1954.json"),
    (read_osv, "osv/osvscanner_PyPI_PYSEC-2021-98.json"),
]


def nested(levels: int) -> bytes:
    """A JSON value `levels` deep: arrays, with an object and a string of brackets inside."""
    inner = b'{"note": "[[{{ \\" ]] }"}'
    return b"[" * (levels - 1) + inner + b"]" * (levels - 1)


def with_member(raw: bytes, value: bytes) -> bytes:
    """The JSON object `raw` with a first member "x-extra" holding `value` (one level deeper
    than the object itself)."""
    start = raw.index(b"{")
    return raw[: start + 1] + b'"x-extra": ' + value + b", " + raw[start + 1 :]


def scanner_records(module: ModuleType, data: bytes, where: str = "report.json") -> list[Any]:
    return list(module.read(io.BytesIO(data), where=where, tally=Tally()))


def refused_lightly(call: Callable[[], Any]) -> FeedError:
    """The FeedError `call` raises, with its Python allocations kept well under what ijson.parse
    alone needs for DEEP levels (~60 MB): the refusal comes before the parser reads deep."""
    tracemalloc.start()
    try:
        with pytest.raises(FeedError) as caught:
            call()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 * 1024, peak
    return caught.value


class Trickle(io.BytesIO):
    """A stream that gives at most `step` bytes a read, so that escapes, strings and brackets
    fall across the reader's chunks."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__(data)
        self.step = step

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.step:
            size = self.step
        return super().read(size)


# --- The limit --------------------------------------------------------------------------------


def test_the_limit_is_json_max_depth_levels_exactly():
    assert JSON_MAX_DEPTH == 100
    events = list(json_events(io.BytesIO(b"[" * 100 + b"]" * 100), where="limit.json"))
    assert len(events) == 200
    with pytest.raises(FeedError) as caught:
        list(json_events(io.BytesIO(b"[" * 101 + b"]" * 101), where="limit.json"))
    assert caught.value.where == "limit.json"
    assert caught.value.message == (
        "The JSON is nested more than 100 levels deep at byte offset 100: no report or feed is "
        "nested that deeply."
    )
    objects = b'{"a":' * 101 + b"1" + b"}" * 101
    with pytest.raises(FeedError) as caught:
        list(json_events(io.BytesIO(objects), where="limit.json"))
    assert "at byte offset 500:" in caught.value.message  # the 101st "{", five bytes a level


def test_the_offset_counts_a_byte_order_mark_and_earlier_chunks():
    data = b"\xef\xbb\xbf" + b" " * 70_000 + b"[" * 101
    with pytest.raises(FeedError) as caught:
        list(json_events(io.BytesIO(data), where="bom.json"))
    assert f"at byte offset {3 + 70_000 + 100}:" in caught.value.message


@pytest.mark.parametrize("step", [1, 2, 3, 7, 65536])
def test_brackets_in_strings_and_escapes_do_not_count(step):
    tricky = '["[[[{{{", "\\"[[", "\\\\", "\\\\\\"{{", "é[☃", "\\u005b"]'
    value = b"[" * 98 + tricky.encode() + b"]" * 98  # 99 levels, strings full of brackets
    events = list(json_events(Trickle(value, step), where="strings.json"))
    assert events[-1][1] == "end_array" and len(events) == 2 * 99 + 6
    reader = Utf8Reader(Trickle(b"[" + value + b"]", step), where="strings.json")  # 100 levels
    assert len(list(json_events(reader, where="strings.json"))) == 2 * 100 + 6
    with pytest.raises(FeedError) as caught:
        list(json_events(Trickle(b"[[" + value + b"]]", step), where="strings.json"))
    assert "at byte offset 100:" in caught.value.message


def _reference(data: bytes, limit: int) -> tuple[int, int | None]:
    """The deepest level ijson reaches, and the offset of the first bracket past `limit`
    found byte by byte (slow, plain)."""
    depth = deepest = 0
    for event, _value in ijson.basic_parse(io.BytesIO(data)):
        if event in {"start_map", "start_array"}:
            depth += 1
            deepest = max(deepest, depth)
        elif event in {"end_map", "end_array"}:
            depth -= 1
    depth, in_string, escaped = 0, False, False
    for offset, char in enumerate(data.decode("ascii")):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return deepest, offset
        elif char in "]}":
            depth -= 1
    return deepest, None


def _value(rng: random.Random, levels: int) -> Any:
    pieces = ["[", "]", "{", "}", '"', "\\", '\\"', "a", "é", "\n", "[[", '"]']
    if levels == 0 or rng.random() < 0.3:
        return rng.choice(["".join(rng.choices(pieces, k=rng.randint(0, 5))), 1, None, 2.5])
    if rng.random() < 0.5:
        return [_value(rng, levels - 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(pieces) * 2: _value(rng, levels - 1) for _ in range(rng.randint(0, 3))}


def test_the_depth_followed_on_the_bytes_is_the_parsers():
    rng = random.Random(20_260_101)
    for _ in range(150):
        data = json.dumps(_value(rng, rng.randint(1, 9))).encode()
        limit = rng.randint(1, 6)
        deepest, offset = _reference(data, limit)
        for step in (1, 3, 64):
            nesting, found = _Nesting(limit), None
            for start in range(0, len(data), step):
                chunk = data[start : start + step]
                past = nesting.feed(chunk)
                if past is not None:
                    found = start + past
                    break
            assert (deepest > limit) == (found is not None), (data, limit)
            assert found == offset, (data, limit, found, offset)
            if found is None:
                assert (nesting.depth, nesting.in_string) == (0, False), data


# --- The acceptance tester's file ----------------------------------------------------------------


def test_the_testers_file_is_refused_at_its_first_read_before_any_parser():
    bomb = b'{"SchemaVersion": 2, "Results": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert len(bomb) > 200_000
    reader = Utf8Reader(io.BytesIO(bomb), where="bomb.json")
    with pytest.raises(FeedError) as caught:
        reader.read(64 * 1024)  # what ijson asks for first
    # The 100th "[" (level 101) is at byte 32 + 99.
    assert "more than 100 levels deep at byte offset 131" in caught.value.message


# --- Every JSON reader -------------------------------------------------------------------------


@pytest.mark.parametrize(("module", "relative"), SCANNER_SAMPLES)
def test_every_scanner_reader_refuses_a_deep_report_before_reading_it(module, relative):
    data = with_member(sample(relative).read_bytes(), nested(DEEP))
    error = refused_lightly(lambda: scanner_records(module, data, relative))
    assert TOO_DEEP in error.message and error.where == relative


def test_masscan_refuses_a_deep_list_read_as_json():
    data = b"[\n" * DEEP + b"]\n" * DEEP  # one bracket a line: not masscan's lines
    error = refused_lightly(lambda: scanner_records(masscan, data, "masscan.json"))
    assert TOO_DEEP in error.message


@pytest.mark.parametrize(("reader", "relative"), FEED_SAMPLES)
def test_every_feed_refuses_a_deep_file(reader, relative):
    data = with_member(sample(relative).read_bytes(), nested(DEEP))
    error = refused_lightly(lambda: reader(io.BytesIO(data), name=relative))
    assert TOO_DEEP in error.message and error.where == relative


def test_a_deep_member_of_an_osv_zip_is_refused_naming_it():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        raw = sample("osv/osvscanner_PyPI_PYSEC-2021-98.json").read_bytes()
        zipped.writestr("PYSEC-2021-98.json", raw)
        zipped.writestr("deep.json", with_member(raw, nested(DEEP)))
    error = refused_lightly(lambda: read_osv(io.BytesIO(archive.getvalue()), name="all.zip"))
    assert TOO_DEEP in error.message and "deep.json" in error.where


def test_the_walk_refuses_a_deep_item_of_its_list():
    data = b'{"vulnerabilities": [{"a": 1}, ' + nested(DEEP) + b"]}"
    walk = JsonWalk(Utf8Reader(io.BytesIO(data), where="w.json"), where="w.json", array_key="")
    error = refused_lightly(lambda: list(walk.items()))
    assert TOO_DEEP in error.message


@pytest.mark.parametrize(("module", "relative"), SCANNER_SAMPLES)
def test_a_report_nested_50_levels_reads_as_before(module, relative):
    raw = sample(relative).read_bytes()
    assert scanner_records(module, with_member(raw, nested(49))) == scanner_records(module, raw)


@pytest.mark.parametrize(("reader", "relative"), FEED_SAMPLES)
def test_a_feed_nested_50_levels_reads_as_before(reader, relative):
    raw = sample(relative).read_bytes()
    deep = reader(io.BytesIO(with_member(raw, nested(49))), name=relative)
    assert deep.advisories == reader(io.BytesIO(raw), name=relative).advisories


# --- Through the API ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_deep_trivy_upload_is_a_400_and_nothing_is_written(login_as, ciso, system):
    client = login_as(ciso)
    before = rows()
    bomb = b'{"SchemaVersion": 2, "Results": ' + b"[" * DEEP + b"]" * DEEP + b"}"
    response = client.post(
        SCANS,
        {"file": SimpleUploadedFile("bomb.json", bomb), "system": system.pk},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "scan_refused"
    assert body["detail"] == (
        "The JSON is nested more than 100 levels deep at byte offset 131: no report or feed is "
        "nested that deeply."
    )
    assert "bomb.json" in body["where"]
    assert rows() == before  # no finding, host or vulnerability
    [scan] = Scan.objects.all()
    assert scan.state == Scan.State.REFUSED  # kept, saying why; never DONE
    assert AuditEvent.objects.filter(verb="scan.refused", target_id=str(scan.pk)).exists()
