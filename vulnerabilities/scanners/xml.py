"""The one safe way the product reads XML: a checked prolog, then a streaming, pruned iterparse.

Scanner reports can be hundreds of MB and come from outside, so an XML report is never parsed
as a whole document and never trusted to declare entities:

* Before parsing, the prolog (the bytes before the root element, at most `PROLOG_LIMIT`) is
  read by hand. A DOCTYPE that declares entities is refused, saying whether an entity is
  external (SYSTEM/PUBLIC: it would read a file or a URL) or internal (entity expansion, as in
  "billion laughs" and the quadratic blow-up); a DOCTYPE naming an external DTD is refused
  too. Nothing is ever read from disk or the network for the document.
* The parse itself is `lxml.etree.iterparse` with `resolve_entities=False, no_network=True,
  load_dtd=False, huge_tree=False`, so libxml2 would not expand or fetch anything even if the
  prolog check were wrong. Each element handed out is cleared once the reader is done with
  it, with the preceding siblings, so only the open ancestors and one item are in memory.
* Any libxml2 syntax error (truncated file, not well-formed, not UTF-8 when it says UTF-8)
  becomes a `FeedError` naming the line and column.

Where a whole small XML document must be parsed (nowhere yet), `defusedxml` is the way, never
`xml.etree`/`lxml.etree.fromstring` directly.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import IO, TypeAlias

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree  # type: ignore[import-untyped]  # no stubs; see Element

from vulnerabilities.feeds.common import place
from vulnerabilities.records import FeedError

Element: TypeAlias = etree._Element  # what readers annotate with (lxml ships no type information)
PROLOG_LIMIT = 1 << 20  # bytes read to find the root element
_CHUNK = 1 << 16
_SPACE = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_EXTERNAL_ID = re.compile(rb"\b(SYSTEM|PUBLIC)\b")

# Root elements of XML files people might upload in place of another, and what they are.
_ROOTS = {
    "nmaprun": gettext_lazy("an nmap XML report"),
    "NessusClientData_v2": gettext_lazy("a Nessus report (.nessus)"),
    "NessusClientData": gettext_lazy("a Nessus v1 report (.nessus)"),
    "report": gettext_lazy("a Greenbone/OpenVAS report"),
    "get_reports_response": gettext_lazy("a Greenbone/OpenVAS report"),
    "bom": gettext_lazy("a CycloneDX XML SBOM"),
    "html": gettext_lazy("a web page (HTML)"),
    "OWASPZAPReport": gettext_lazy("an OWASP ZAP report"),
    "issues": gettext_lazy("a Burp Suite report"),
    "NexposeReport": gettext_lazy("a Rapid7 Nexpose report"),
}
# Top-level keys that give a JSON report away.
_JSON_HINTS = (
    (b'"ArtifactName"', gettext_lazy("a Trivy JSON report")),
    (b'"SchemaVersion"', gettext_lazy("a Trivy JSON report")),
    (b'"bomFormat"', gettext_lazy("a CycloneDX JSON SBOM")),
    (b'"matches"', gettext_lazy("a Grype JSON report")),
    (b'"runs"', gettext_lazy("a SARIF report")),
    (b'"ports"', gettext_lazy("a masscan JSON report")),
)


def local(element: Element) -> str:
    """An element's tag without its namespace."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def at_line(where: str, element: Element) -> str:
    """Where an element is, for a message: the file name and the line of its start tag."""
    line = element.sourceline
    return place(where, _("line %(line)d") % {"line": line}) if line else where


def attribute(element: Element, name: str, where: str) -> str:
    """A required attribute's value, stripped; FeedError naming the element and its line."""
    value = (element.get(name) or "").strip()
    if not value:
        raise FeedError(
            _("The element <%(element)s> has no “%(attribute)s” attribute.")
            % {"element": local(element), "attribute": name},
            where=at_line(where, element),
        )
    return value


def child_text(element: Element, path: str) -> str:
    """The stripped text of the first child at `path` ("" when there is none)."""
    return (element.findtext(path) or "").strip()


def looks_like(root: str) -> str:
    """What a file with this root element probably is ("" when unknown)."""
    guess = _ROOTS.get(root)
    return str(guess) if guess else ""


def walk(
    stream: IO[bytes],
    *,
    where: str,
    expected: str,
    roots: Collection[str],
    items: Collection[str],
    marks: Collection[str] = (),
) -> Iterator[tuple[str, Element]]:
    """The parts of an XML report a reader asked for, in document order, memory bounded.

    Paths are matched on the end of the path of open elements ("results/result" matches any
    `result` whose parent is `results`), on local names. An element matching `items` is built
    whole and handed out as ("item", element) at its end; one matching `marks` is handed out
    as ("start", element) with its attributes only and again as ("end", element) once its
    content has gone by (its children are not kept). Everything else is dropped as it ends.
    Items inside an item are not handed out separately.

    `roots` are the root element names the reader accepts; another is refused naming what the
    file looks like. `expected` says what the reader reads ("a Nessus report"), for messages.
    """
    start = stream.tell()
    _check_prolog(stream, where=where, expected=expected)
    stream.seek(start)
    wanted: dict[str, list[tuple[list[str], str]]] = {}  # by last name: (path, kind)
    for paths, kind in ((items, "item"), (marks, "mark")):
        for path in paths:
            names = path.split("/")
            wanted.setdefault(names[-1], []).append((names, kind))
    etree.clear_error_log()  # libxml2's log is per thread: keep only this parse's errors
    parser = etree.iterparse(
        stream,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    stack: list[str] = []
    marked: list[bool] = []
    capture = 0  # depth of the item being built, 0 when none
    rooted = False
    try:
        for event, element in parser:
            if event == "start":
                stack.append(local(element))
                if len(stack) == 1:
                    rooted = _check_root(element, roots, where=where, expected=expected)
                kind = "" if capture or stack[-1] not in wanted else _kind(stack, wanted)
                if kind == "item":
                    capture = len(stack)
                elif kind == "mark":
                    yield "start", element
                marked.append(kind == "mark")
                continue
            if capture == len(stack):
                capture = 0
                yield "item", element
            elif not capture and marked[-1]:
                yield "end", element
            if not capture:
                _drop(element)
            stack.pop()
            marked.pop()
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, where=where) from None
    if not rooted:
        raise FeedError(_("The file holds no XML element."), where=where)


def _check_root(element: Element, roots: Collection[str], *, where: str, expected: str) -> bool:
    name = local(element)
    if name not in roots:
        raise _wrong_root(name, where=at_line(where, element), expected=expected)
    return True


def _kind(stack: list[str], wanted: dict[str, list[tuple[list[str], str]]]) -> str:
    """Whether the open elements end with a wanted path: "item", "mark" or "" (neither)."""
    for names, kind in wanted[stack[-1]]:
        if len(names) <= len(stack) and stack[-len(names) :] == names:
            return kind
    return ""


def _drop(element: Element) -> None:
    """Frees an element that has been handled, and the siblings before it."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _wrong_root(name: str, *, where: str, expected: str) -> FeedError:
    guess = looks_like(name)
    if guess:
        message = _(
            "This is not %(expected)s: its root element is <%(root)s>; it looks like %(guess)s."
        ) % {"expected": expected, "root": name, "guess": guess}
    else:
        message = _("This is not %(expected)s: its root element is <%(root)s>.") % {
            "expected": expected,
            "root": name,
        }
    return FeedError(message, where=where)


def _syntax_error(exc: etree.XMLSyntaxError, *, where: str) -> FeedError:
    line, column = exc.position if exc.position else (exc.lineno or 0, 0)
    detail = (exc.msg or str(exc)).strip()
    if not line:  # iterparse can report a later, vaguer error: libxml2's first says more
        errors = exc.error_log.filter_from_errors()
        if errors:
            first = errors[0]
            line, column, detail = first.line, first.column, first.message.strip()
    # libxml2 appends its own ", line N, column M"; the message says it already.
    detail = re.sub(r",? line \d+, column \d+$", "", detail)
    if "UTF-8" in detail or "encoding" in detail.lower():
        message = _(
            "The file is not UTF-8 (nor in the encoding it declares): %(detail)s "
            "(line %(line)d, column %(column)d)."
        )
    else:
        message = _(
            "The file is not complete, well-formed XML: %(detail)s "
            "(line %(line)d, column %(column)d)."
        )
    return FeedError(
        message % {"detail": detail, "line": line, "column": column},
        where=place(where, _("line %(line)d") % {"line": line}) if line else where,
    )


# The prolog, read by hand ------------------------------------------------------------------


class _NeedMore(Exception):
    """The bytes read so far end inside a construct: read more."""


def _check_prolog(stream: IO[bytes], *, where: str, expected: str) -> None:
    """Reads the bytes before the root element and refuses what must not be parsed."""
    data = b""
    while True:
        chunk = stream.read(_CHUNK)
        data += chunk
        try:
            _scan_prolog(data, where=where, expected=expected, final=not chunk)
            return
        except _NeedMore:
            if not chunk:
                return  # the file ends in its prolog: the parser says how
            if len(data) >= PROLOG_LIMIT:
                raise FeedError(
                    _("No root element in the first %(size)d bytes: this is not %(expected)s.")
                    % {"size": PROLOG_LIMIT, "expected": expected},
                    where=where,
                ) from None


def _scan_prolog(data: bytes, *, where: str, expected: str, final: bool) -> None:
    """Returns once the root element's start is reached (or something that is not a prolog);
    raises _NeedMore when `data` ends before that, FeedError for what is refused."""
    if not data.strip(_SPACE):
        if final:
            raise FeedError(_("The file is empty."), where=where)
        raise _NeedMore
    if data.startswith(_WIDE_BOMS) or data[:4] in (b"\x00<\x00?", b"<\x00?\x00"):
        raise FeedError(
            _("The file is UTF-16 or UTF-32; %(expected)s is read as UTF-8 only.")
            % {"expected": expected},
            where=where,
        )
    pos = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    size = len(data)
    while True:
        while pos < size and data[pos] in _SPACE:
            pos += 1
        if pos >= size:
            raise _NeedMore
        if data.startswith(b"<?", pos):
            pos = _after(data, b"?>", pos + 2)
        elif data.startswith(b"<!--", pos):
            pos = _after(data, b"-->", pos + 4)
        elif data.startswith(b"<!DOCTYPE", pos):
            pos = _doctype(data, pos, where=where)
        elif size - pos < 9 and b"<!DOCTYPE".startswith(data[pos:]) and not final:
            raise _NeedMore
        elif data[pos : pos + 1] in (b"{", b"["):
            raise _json_refused(data, where=where, expected=expected)
        else:
            return  # the root element, or something the parser will refuse


def _after(data: bytes, end: bytes, pos: int) -> int:
    found = data.find(end, pos)
    if found < 0:
        raise _NeedMore
    return found + len(end)


def _line(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _doctype(data: bytes, pos: int, *, where: str) -> int:
    """The position after a DOCTYPE; FeedError if it names an external DTD or declares
    entities. Quotes, comments and processing instructions are skipped as XML says."""
    begin = pos
    pos += len(b"<!DOCTYPE")
    size = len(data)
    subset = False
    outside: list[bytes] = []  # the DOCTYPE's own words, outside quotes and the subset
    while pos < size:
        byte = data[pos : pos + 1]
        if byte in (b'"', b"'"):
            pos = _after(data, byte, pos + 1)
            continue
        if subset:
            if data.startswith(b"<!--", pos):
                pos = _after(data, b"-->", pos + 4)
                continue
            if data.startswith(b"<?", pos):
                pos = _after(data, b"?>", pos + 2)
                continue
            if data.startswith(b"<!ENTITY", pos):
                _refuse_entity(data, pos, where=where)
            if byte == b"]":
                subset = False
        elif byte == b"[":
            subset = True
        elif byte == b">":
            if _EXTERNAL_ID.search(b"".join(outside)):
                raise FeedError(
                    _(
                        "The file names an external DTD (SYSTEM/PUBLIC: it would read a file "
                        "or a URL); it is not read."
                    ),
                    where=place(where, _("line %(line)d") % {"line": _line(data, begin)}),
                )
            return pos + 1
        else:
            outside.append(byte)
        pos += 1
    raise _NeedMore


def _refuse_entity(data: bytes, pos: int, *, where: str) -> None:
    """Raises FeedError for the entity declaration at `pos` (after reading it whole)."""
    end = pos + len(b"<!ENTITY")
    words: list[bytes] = []
    size = len(data)
    while True:
        if end >= size:
            raise _NeedMore
        byte = data[end : end + 1]
        if byte in (b'"', b"'"):
            end = _after(data, byte, end + 1)
            words.append(b" ")
            continue
        if byte == b">":
            break
        words.append(byte)
        end += 1
    here = place(where, _("line %(line)d") % {"line": _line(data, pos)})
    if _EXTERNAL_ID.search(b"".join(words)):
        raise FeedError(
            _(
                "The file declares an external entity (SYSTEM/PUBLIC: it would read a file or "
                "a URL); it is not read."
            ),
            where=here,
        )
    raise FeedError(
        _(
            "The file declares entities (an entity-expansion bomb can hide in them); scanner "
            "reports need none."
        ),
        where=here,
    )


def _json_refused(data: bytes, *, where: str, expected: str) -> FeedError:
    head = data[:4096]
    for key, what in _JSON_HINTS:
        if key in head:
            return FeedError(
                _("This is not %(expected)s: it is JSON; it looks like %(guess)s.")
                % {"expected": expected, "guess": str(what)},
                where=where,
            )
    return FeedError(
        _("This is not %(expected)s: it is JSON, not XML.") % {"expected": expected},
        where=where,
    )
