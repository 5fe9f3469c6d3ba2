"""CycloneDX JSON SBOM reader: a system's components as identities, streamed and checked."""

from __future__ import annotations

import codecs
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO

import ijson
from django.utils.translation import gettext as _
from packageurl import PackageURL

from systems.packages import Identity, PackageError, cpe_fields, parse_cpe, read_cpe, read_purl

SPEC_VERSIONS = ("1.4", "1.5", "1.6")

# A component's fields the reader keeps; the rest (hashes, licences, properties) is skipped.
_COMPONENT_FIELDS = frozenset({"purl", "cpe", "version", "name", "bom-ref"})
_SUBJECT_FIELDS = frozenset({"purl", "name", "version"})
_SCALARS = frozenset({"string", "number", "integer", "double", "boolean", "null"})
_OPENING = frozenset({"start_map", "start_array"})
_CHUNK = 64 * 1024
# How deep the JSON may nest. A CycloneDX BOM nests about ten levels, and two more for each
# component inside a component; past this a file is an attack: each event of the walk costs
# its depth (its path), so 100,000 "[" would cost billions of steps. The same limit as
# vulnerabilities.feeds.common.JSON_MAX_DEPTH, kept here because systems must not import
# from vulnerabilities (the import-linter contract).
JSON_MAX_DEPTH = 100

Key = str | int  # a JSON path step: a member name or an array index


class SbomError(ValueError):
    """An SBOM that is not CycloneDX JSON 1.4-1.6, truncated, not UTF-8, too large or with a
    component that cannot be read. `where` says where (a component's index path and bom-ref,
    a byte offset); nothing of the file is used."""

    def __init__(self, message: str, *, where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message
        self.where = where


@dataclass(frozen=True)
class SbomEntry:
    """One component of the BOM: what it is, and its bom-ref for the report."""

    identity: Identity
    bom_ref: str


@dataclass
class Sbom:
    """What a CycloneDX BOM says a system is made of.

    `skipped` counts components that make no entry (no Package URL or CPE, no version) and
    entries whose ecosystem we cannot compare ("unknown ecosystem: oci"): these are kept as
    entries, since they are inventory, and counted so the upload can say so.
    """

    spec_version: str
    serial_number: str
    version: int
    subject: str
    entries: list[SbomEntry]
    skipped: Counter[str] = field(default_factory=Counter)
    sha256: str = ""


class _Reader:
    """Reads the upload for the JSON parser: hashes and counts the bytes, refuses more than
    `max_bytes` before reading them all, and refuses bytes that are not UTF-8 where they are."""

    def __init__(self, stream: BinaryIO, max_bytes: int | None) -> None:
        self.stream = stream
        self.max_bytes = max_bytes
        self.count = 0
        self.eof = False
        self.digest = hashlib.sha256()
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.pending = b""

    def _pull(self, size: int) -> bytes:
        if self.eof:
            return b""
        if size < 0:
            size = _CHUNK
        if self.max_bytes is not None:
            # Never ask for more than one byte past the limit: that byte is the proof.
            size = min(size, self.max_bytes + 1 - self.count)
        chunk = self.stream.read(size)
        if not chunk:
            self.eof = True
            return b""
        start = self.count
        self.count += len(chunk)
        self.digest.update(chunk)
        if self.max_bytes is not None and self.count > self.max_bytes:
            raise SbomError(
                _("The file is larger than the %(limit)s bytes an SBOM may be.")
                % {"limit": self.max_bytes},
                where=_("byte %(offset)s") % {"offset": self.max_bytes + 1},
            )
        if b"\x00" in chunk:
            # UTF-16 or binary: valid UTF-8 byte by byte, but never JSON text.
            raise SbomError(
                _("The file is not UTF-8 text."),
                where=_("byte %(offset)s") % {"offset": start + chunk.index(b"\x00")},
            )
        held = len(self.decoder.getstate()[0])  # a character's first bytes from the last chunk
        try:
            self.decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise SbomError(
                _("The file is not UTF-8 text."),
                where=_("byte %(offset)s") % {"offset": max(start + exc.start - held, 0)},
            ) from None
        return chunk

    def peek(self) -> bytes:
        """The first bytes of the file (kept for the parser), without a UTF-8 byte order mark."""
        head = b""
        # A stream may give a few bytes at a time: read until the JSON (or XML) shows.
        while not self.eof and len(head.removeprefix(codecs.BOM_UTF8).lstrip()) < 4:
            head += self._pull(_CHUNK)
        self.pending = head.removeprefix(codecs.BOM_UTF8)
        return self.pending

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks for nothing to learn whether the stream gives bytes
            return b""
        if self.pending:
            if size < 0:
                size = len(self.pending)
            chunk, self.pending = self.pending[:size], self.pending[size:]
            return chunk
        return self._pull(size)

    def drain(self) -> None:
        """Read what the parser left (whitespace), so the hash covers the whole file."""
        while self.read(_CHUNK):
            pass


class _TooDeep(SbomError):
    """The JSON nests past JSON_MAX_DEPTH; read_cyclonedx says near which byte."""


@dataclass
class _Component:
    """A component being read: where it is and the fields kept so far."""

    path: tuple[Key, ...]
    label: str  # components[3].components[0]
    seq: int  # its place in the document: a parent comes before its children
    fields: dict[str, str] = field(default_factory=dict)


class _Walk:
    """Follows the parser's events, one pass: the BOM's header, its subject and every
    component however deeply nested, so that nothing is held but the entries."""

    def __init__(self) -> None:
        self.path: list[Key] = []  # where the current value is
        self.components: list[_Component] = []
        self.header: dict[str, object] = {}
        self.subject: dict[str, str] = {}
        self.top_keys: set[str] = set()
        self.entries: dict[str, tuple[int, SbomEntry]] = {}  # by written identity
        self.seen = 0
        self.skipped: Counter[str] = Counter()
        self.problem: SbomError | None = None  # the first bad component, raised once the
        # file is known to be CycloneDX (its header may come after its components)

    def event(self, kind: str, value: object) -> None:
        if kind == "map_key":
            self.path[-1] = str(value)
            if len(self.path) == 1:
                self.top_keys.add(str(value))
            return
        if kind in ("end_map", "end_array"):
            self.path.pop()
            ending = tuple(self.path)  # where the closed map or array was
            if kind == "end_map" and self.components and self.components[-1].path == ending:
                self.finish(self.components.pop())
            return
        if self.path and isinstance(self.path[-1], int):
            self.path[-1] += 1
        where = tuple(self.path)
        if not where and kind != "start_map":
            raise SbomError(_("This is not a CycloneDX BOM: the JSON is not an object."))
        if kind in _OPENING:
            if len(where) >= JSON_MAX_DEPTH:
                raise _TooDeep(
                    _(
                        "The JSON is nested more than %(limit)d levels deep: no CycloneDX BOM "
                        "is nested that deeply."
                    )
                    % {"limit": JSON_MAX_DEPTH}
                )
            if kind == "start_map":
                self.begin(where)
                self.path.append("")
            else:
                self.path.append(-1)
        elif kind in _SCALARS:
            self.scalar(where, value)

    def begin(self, where: tuple[Key, ...]) -> None:
        if len(where) < 2 or where[-2] != "components" or not isinstance(where[-1], int):
            return
        if len(where) == 2:
            label = f"components[{where[-1]}]"
        elif self.components and self.components[-1].path == where[:-2]:
            label = f"{self.components[-1].label}.components[{where[-1]}]"
        else:
            return  # a "components" member of something else (metadata.component, a service)
        self.components.append(_Component(path=where, label=label, seq=self.seen))
        self.seen += 1

    def scalar(self, where: tuple[Key, ...], value: object) -> None:
        if len(where) == 1:
            self.header[str(where[0])] = value
            self.check_header()
        elif where[:2] == ("metadata", "component") and len(where) == 3:
            if where[2] in _SUBJECT_FIELDS and isinstance(value, str):
                self.subject[str(where[2])] = value.strip()
        elif self.components and where[:-1] == self.components[-1].path:
            name = str(where[-1])
            if name in _COMPONENT_FIELDS and value is not None:
                self.components[-1].fields[name] = value if isinstance(value, str) else str(value)

    def check_header(self, *, final: bool = False) -> None:
        """Refuse what is not CycloneDX 1.4-1.6 as soon as the header says so."""
        if "bomFormat" not in self.header:
            if final:
                raise SbomError(self.not_cyclonedx())
            return
        if self.header["bomFormat"] != "CycloneDX":
            raise SbomError(
                _("This is not a CycloneDX BOM: its bomFormat is “%(format)s”.")
                % {"format": self.header["bomFormat"]}
            )
        if "specVersion" not in self.header:
            if final:
                raise SbomError(_("The CycloneDX BOM does not say its specVersion."))
            return
        spec = self.header["specVersion"]
        if spec not in SPEC_VERSIONS:
            raise SbomError(
                _("CycloneDX %(version)s is not read: only CycloneDX 1.4, 1.5 and 1.6 are.")
                % {"version": spec}
            )
        if self.problem is not None:
            raise self.problem

    def not_cyclonedx(self) -> str:
        if {"SchemaVersion", "Results"} <= self.top_keys:
            return _("This is a Trivy report, not a CycloneDX SBOM.")
        if {"matches", "descriptor"} <= self.top_keys:
            return _("This is a Grype report, not a CycloneDX SBOM.")
        return _("This is not a CycloneDX BOM: it has no bomFormat.")

    def finish(self, component: _Component) -> None:
        try:
            self.add(component)
        except PackageError as exc:
            if self.problem is None:
                ref = component.fields.get("bom-ref") or component.fields.get("name", "")
                where = f"{component.label} ({ref})" if ref else component.label
                self.problem = SbomError(str(exc), where=where)
            if self.header.get("bomFormat") == "CycloneDX" and "specVersion" in self.header:
                self.check_header()

    def add(self, component: _Component) -> None:
        fields = component.fields
        version = fields.get("version", "").strip()
        if fields.get("purl", "").strip():
            text = fields["purl"].strip()
            try:
                purl = PackageURL.from_string(text)
            except ValueError as exc:
                raise PackageError(
                    _("The Package URL “%(purl)s” cannot be read: %(error)s")
                    % {"purl": text, "error": exc}
                ) from None
            if not (purl.version or version):
                self.skipped[_("no version")] += 1
                return
            identity = read_purl(text, version=version)
            if not identity.scheme:
                self.skipped[_("unknown ecosystem: %(type)s") % {"type": purl.type}] += 1
        elif fields.get("cpe", "").strip():
            text = fields["cpe"].strip()
            if cpe_fields(parse_cpe(text))[3] in {"*", "-", ""} and not version:
                self.skipped[_("no version")] += 1
                return
            identity = read_cpe(text, version=version)
        else:
            self.skipped[_("no identifier")] += 1
            return
        # The same package listed twice (two paths, two layers) is one entry: the first.
        found = self.entries.get(identity.written)
        if found is None or found[0] > component.seq:
            entry = SbomEntry(identity=identity, bom_ref=fields.get("bom-ref", ""))
            self.entries[identity.written] = (component.seq, entry)

    def result(self, sha256: str) -> Sbom:
        self.check_header(final=True)
        version = self.header.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise SbomError(_("The BOM's version must be a whole number from 1."))
        serial = self.header.get("serialNumber", "")
        subject = self.subject.get("purl", "")
        if not subject and self.subject.get("name"):
            subject = self.subject["name"]
            if self.subject.get("version"):
                subject = f"{subject}@{self.subject['version']}"
        return Sbom(
            spec_version=str(self.header["specVersion"]),
            serial_number=serial if isinstance(serial, str) else "",
            version=version,
            subject=subject or (serial if isinstance(serial, str) else ""),
            entries=[entry for _seq, entry in sorted(self.entries.values(), key=lambda f: f[0])],
            skipped=self.skipped,
            sha256=sha256,
        )


def read_cyclonedx(stream: BinaryIO, *, max_bytes: int | None = None) -> Sbom:
    """Read a CycloneDX 1.4-1.6 JSON BOM from a binary stream, in one pass, without holding
    the file: every component (nested ones too) with a Package URL or CPE and a version
    becomes an entry. Anything else that is wrong with the file is an SbomError."""
    reader = _Reader(stream, max_bytes)
    head = reader.peek().lstrip()
    if not head:
        raise SbomError(_("The file is empty."))
    if head.startswith(b"<"):
        raise SbomError(_("Only CycloneDX JSON is read: this file is XML."))
    walk = _Walk()
    try:
        for kind, value in ijson.basic_parse(reader, use_float=True):
            walk.event(kind, value)
    except _TooDeep as exc:
        raise SbomError(
            exc.message, where=_("near byte %(offset)s") % {"offset": reader.count}
        ) from None
    except ijson.JSONError as exc:
        if reader.eof:
            raise SbomError(
                _("The file ends before its JSON does: it is truncated."),
                where=_("byte %(offset)s") % {"offset": reader.count},
            ) from None
        detail = str(exc).splitlines()[0] if str(exc) else ""
        raise SbomError(
            _("The file is not valid JSON: %(error)s") % {"error": detail},
            where=_("near byte %(offset)s") % {"offset": reader.count},
        ) from None
    reader.drain()
    return walk.result(reader.digest.hexdigest())
