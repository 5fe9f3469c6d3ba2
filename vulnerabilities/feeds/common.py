"""What the feed readers share: a UTF-8-checked byte stream, a streaming JSON walk, field checks."""

from __future__ import annotations

import codecs
import datetime as dt
import itertools
import re
from collections.abc import Iterator
from typing import IO, Any

import ijson
from django.utils.translation import gettext as _

from vulnerabilities.records import FeedError

_OPEN = {"start_map", "start_array"}
_CLOSE = {"end_map", "end_array"}
_BOM = codecs.BOM_UTF8

# How deep a JSON file may nest. Every format read here (NVD, OSV, KEV, Trivy, Grype, SARIF,
# CycloneDX, masscan) nests about ten levels; CycloneDX components inside components add two
# a level. Past this a file is an attack on the parser: ijson.parse builds a prefix string for
# every event, and within one 64 KB read of "[[[[" that is memory quadratic in the depth (a
# 200 KB file of 100,000 "[" took 23 GB). The depth is followed on the bytes, before the parser
# sees them (see _Nesting); the SBOM reader (systems.sbom) keeps the same limit on its own.
JSON_MAX_DEPTH = 100

Event = tuple[str, str, Any]  # ijson.parse's (prefix, event, value)


def place(*parts: str) -> str:
    """Where in a feed: the file name, a zip member, a record, joined for a person to read."""
    return ", ".join(part for part in parts if part)


def record_place(index: int | None, record_id: str = "") -> str:
    """A record by its position and, once known, its id."""
    if index is None:
        return record_id
    if record_id:
        return _("record %(index)d (%(id)s)") % {"index": index + 1, "id": record_id}
    return _("record %(index)d") % {"index": index + 1}


_ESCAPED = re.compile(rb"\\.", re.DOTALL)  # a backslash and the byte it escapes
_STRING = re.compile(rb'"[^"]*"')
_NOT_MARKS = bytes(range(256)).translate(None, b'"[]{}')  # what _Nesting deletes
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_QUOTE, _BACKSLASH = ord('"'), ord("\\")


class _Nesting:
    """The nesting depth of a JSON text, followed over its bytes a chunk at a time with bytes
    and regex operations (no Python step per byte or per event): escapes are dropped, then all
    but quotes and brackets, then strings; what is left are the brackets that nest. For valid
    JSON this is the parser's own depth, exactly."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.held = b""  # a chunk's last backslash: what it escapes is in the next chunk

    def feed(self, chunk: bytes) -> int | None:
        """Follow `chunk`; the index in it of the bracket that opens one level past the limit,
        or None while the text stays within it."""
        data, depth, in_string = self.held + chunk, self.depth, self.in_string
        held = len(self.held)
        marks = _ESCAPED.sub(b"", data)
        self.held = b"\\" if marks.endswith(b"\\") else b""
        marks = marks.translate(None, _NOT_MARKS)
        if in_string:
            marks = b'"' + marks
        # Most strings hold no bracket: `""` is then an empty string or the end of one string
        # and the start of the next with no bracket between; dropping either changes nothing.
        marks = marks.replace(b'""', b"")
        if b'"' in marks:
            marks = _STRING.sub(b"", marks)
        quote = marks.find(b'"')  # a string that goes on into the next chunk
        self.in_string = quote >= 0
        if quote >= 0:
            marks = marks[:quote]
        opens = marks.count(b"[") + marks.count(b"{")
        if depth + opens > self.limit:
            deepest = max(itertools.accumulate(map(_STEP.__getitem__, marks), initial=depth))
            if deepest > self.limit:
                return max(self._past(data, depth, in_string) - held, 0)
        self.depth = depth + 2 * opens - len(marks)
        return None

    def _past(self, data: bytes, depth: int, in_string: bool) -> int:
        """Where in `data` the limit is passed, byte by byte (only for a file refused)."""
        escaped = False
        for index, byte in enumerate(data):
            if in_string:
                if escaped:
                    escaped = False
                elif byte == _BACKSLASH:
                    escaped = True
                elif byte == _QUOTE:
                    in_string = False
            elif byte == _QUOTE:
                in_string = True
            elif byte in _STEP:
                depth += _STEP[byte]
                if depth > self.limit:
                    return index
        return len(data)


class Utf8Reader:
    """A binary stream that refuses bytes that are not UTF-8 before the JSON parser sees them
    (ijson's backends differ on bad UTF-8, and none says the byte offset), drops a BOM, and
    refuses JSON nested more than JSON_MAX_DEPTH levels before the parser reads that deep."""

    def __init__(self, raw: IO[bytes], *, where: str, head: bytes = b"") -> None:
        self._raw = raw
        self._head = head
        self._where = where
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._offset = 0  # bytes handed on so far
        self._started = False
        self._done = False
        self._nesting = _Nesting(JSON_MAX_DEPTH)

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks for nothing first, to learn whether the stream gives bytes
            return b""
        if self._head:
            chunk, self._head = self._head, b""
            if size > len(chunk) or size < 0:
                chunk += self._raw.read(size - len(chunk) if size >= 0 else -1)
        else:
            chunk = self._raw.read(size)
        if not self._started:
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
                self._offset += len(_BOM)
        self._check(chunk, final=not chunk)
        past = self._nesting.feed(chunk)
        if past is not None:
            raise FeedError(
                _(
                    "The JSON is nested more than %(limit)d levels deep at byte offset "
                    "%(offset)d: no report or feed is nested that deeply."
                )
                % {"limit": JSON_MAX_DEPTH, "offset": self._offset + past},
                where=self._where,
            )
        self._offset += len(chunk)
        return chunk

    def _check(self, chunk: bytes, *, final: bool) -> None:
        if self._done:
            return
        self._done = final
        # The decoder holds back the bytes of an unfinished sequence and reports positions
        # counted from the first of them.
        pending = len(self._decoder.getstate()[0])
        try:
            self._decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            offset = self._offset - pending + exc.start
            raise FeedError(
                _("The file is not UTF-8: the byte at offset %(offset)d cannot be read.")
                % {"offset": offset},
                where=self._where,
            ) from None


def json_events(stream: Utf8Reader | IO[bytes], *, where: str) -> Iterator[Event]:
    """ijson.parse's (prefix, event, value) events of a JSON file, read through a Utf8Reader:
    FeedError for bytes that are not UTF-8 and for nesting past JSON_MAX_DEPTH, raised where
    the events are read (ijson's own errors too: see JsonWalk.items, jsonstream.guarded)."""
    reader = stream if isinstance(stream, Utf8Reader) else Utf8Reader(stream, where=where)
    events: Iterator[Event] = ijson.parse(reader, use_float=True)
    return events


def _json_error(exc: Exception, where: str) -> FeedError:
    detail = exc.args[0] if exc.args else ""
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    first = str(detail).strip().splitlines()[0] if str(detail).strip() else ""
    return FeedError(
        _("The file is not complete, valid JSON (%(detail)s).") % {"detail": first}, where=where
    )


class JsonWalk:
    """Reads a JSON document event by event: the items of one top-level list are built and
    handed out one at a time, everything else at the top is kept in `top`.

    `array_key` names the list (`"vulnerabilities"`); a document that is itself a list has its
    items handed out instead. Only one item is in memory at a time.
    """

    def __init__(self, stream: Utf8Reader | IO[bytes], *, where: str, array_key: str) -> None:
        self._stream = stream
        self._where = where
        self._array_key = array_key
        self.top: dict[str, Any] = {}
        self.top_is_list = False
        self.found_list = False

    def items(self) -> Iterator[Any]:
        """Each item of the list, in order; FeedError for JSON that is broken or cut short."""
        try:
            yield from self._walk()
        except (ijson.JSONError, ijson.IncompleteJSONError) as exc:
            raise _json_error(exc, self._where) from None

    def _walk(self) -> Iterator[Any]:
        events = json_events(self._stream, where=self._where)
        first = next(events, None)
        if first is None:
            raise FeedError(_("The file is empty."), where=self._where)
        if first[1] == "start_array":
            self.top_is_list = self.found_list = True
            yield from self._list_items(events)
            return
        if first[1] != "start_map":
            raise FeedError(_("The file is not a JSON object or list."), where=self._where)
        key = ""
        for _prefix, event, value in events:
            if event == "end_map":
                return
            if event == "map_key":
                key = value
            elif key == self._array_key:
                if event != "start_array":
                    raise FeedError(
                        _("“%(key)s” must be a list.") % {"key": key}, where=self._where
                    )
                self.found_list = True
                yield from self._list_items(events)
            elif event in _OPEN:
                self.top[key] = _build(events, event)
            else:
                self.top[key] = value

    def _list_items(self, events: Iterator[Event]) -> Iterator[Any]:
        for _prefix, event, value in events:
            if event == "end_array":
                return
            yield _build(events, event) if event in _OPEN else value


def _build(events: Iterator[Event], opening: str) -> Any:
    """The whole value that begins with `opening` (a start_map or start_array event)."""
    builder = ijson.ObjectBuilder()
    builder.event(opening, None)
    depth = 1
    for _prefix, event, value in events:
        builder.event(event, value)
        if event in _OPEN:
            depth += 1
        elif event in _CLOSE:
            depth -= 1
            if depth == 0:
                break
    return builder.value


def text(data: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    """A text field; "" when absent (FeedError if `required`), FeedError when not text."""
    value = data.get(key)
    if value is None:
        if required:
            raise FeedError(_("The field “%(key)s” is missing.") % {"key": key}, where=where)
        return ""
    if not isinstance(value, str):
        raise FeedError(_("The field “%(key)s” must be text.") % {"key": key}, where=where)
    return value


def listed(data: dict[str, Any], key: str, where: str) -> list[Any]:
    """A list field; [] when absent, FeedError when not a list."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FeedError(_("The field “%(key)s” must be a list.") % {"key": key}, where=where)
    return value


def mapping(value: Any, what: str, where: str) -> dict[str, Any]:
    """`value` if it is a JSON object, else FeedError naming what it should have been."""
    if not isinstance(value, dict):
        raise FeedError(_("%(what)s must be a JSON object.") % {"what": what}, where=where)
    return value


_FRACTION = re.compile(r"(\.\d{6})\d+")


def timestamp(data: dict[str, Any], key: str, where: str) -> dt.datetime | None:
    """An RFC 3339 / ISO 8601 date-time field as an aware datetime (UTC when no offset given,
    as NVD writes them); None when absent."""
    value = text(data, key, where)
    if not value:
        return None
    cleaned = _FRACTION.sub(r"\1", value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        parsed = dt.datetime.fromisoformat(cleaned)
    except ValueError:
        raise FeedError(
            _("“%(value)s” in “%(key)s” is not a date and time.") % {"value": value, "key": key},
            where=where,
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def day(data: dict[str, Any], key: str, where: str, *, required: bool = False) -> dt.date | None:
    """A YYYY-MM-DD field as a date; None when absent (FeedError if `required`)."""
    value = text(data, key, where, required=required)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise FeedError(
            _("“%(value)s” in “%(key)s” is not a date.") % {"value": value, "key": key},
            where=where,
        ) from None


def unique(values: list[str]) -> tuple[str, ...]:
    """The values without repeats and empties, first occurrence first."""
    return tuple(dict.fromkeys(value for value in values if value))
