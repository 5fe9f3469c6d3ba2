"""OSV records (one, a list, or OSV's per-ecosystem all.zip) read into AdvisoryRecords."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
import zlib
from typing import IO, Any, BinaryIO

from django.utils.translation import gettext as _
from packageurl import PackageURL
from univers.version_range import RANGE_CLASS_BY_SCHEMES, VersionRange

from systems.packages import (
    PURL_OF_OSV_ECOSYSTEM,
    SCHEME_OF_PURL_TYPE,
    PackageError,
    check_version,
    purl_key,
)
from vulnerabilities.feeds.common import (
    JsonWalk,
    Utf8Reader,
    listed,
    mapping,
    place,
    record_place,
    text,
    timestamp,
    unique,
)
from vulnerabilities.records import AdvisoryRecord, AffectedPackage, FeedError, ReadReport

ZIP_MAGIC = b"PK\x03\x04"
# One OSV record is a few kB; a member far larger than this is not one (or is a zip bomb).
MEMBER_LIMIT = 32 * 1024 * 1024
RANGE_TYPES = ("ECOSYSTEM", "SEMVER")
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
LISTED_IN_RULE = 10  # versions an enumerated rule names before it says how many more


def read_osv(stream: BinaryIO, *, name: str = "") -> ReadReport:
    """One OSV JSON record, a JSON list of records, or a zip of one record per member (told
    by its magic bytes). FeedError, and nothing read, for anything not so."""
    report = ReadReport()
    head = stream.read(len(ZIP_MAGIC))
    if head == ZIP_MAGIC:
        _read_zip(stream, head, name, report)
    else:
        _read_json(Utf8Reader(stream, where=name, head=head), name, report)
    return report


def _read_zip(stream: BinaryIO, head: bytes, name: str, report: ReadReport) -> None:
    with tempfile.SpooledTemporaryFile(max_size=MEMBER_LIMIT) as spool:
        archive_file: IO[bytes]
        if stream.seekable():
            stream.seek(-len(head), 1)
            archive_file = stream
        else:  # zipfile needs to seek: keep an upload that cannot in a spool file
            spool.write(head)
            shutil.copyfileobj(stream, spool)
            spool.seek(0)
            archive_file = spool
        try:
            with zipfile.ZipFile(archive_file) as archive:
                for info in archive.infolist():
                    if info.is_dir():
                        continue
                    where = place(name, _("member %(name)s") % {"name": info.filename})
                    if info.file_size > MEMBER_LIMIT:
                        raise FeedError(
                            _("The member is too large for an OSV record."), where=where
                        )
                    with archive.open(info) as member:
                        _read_json(Utf8Reader(member, where=where), where, report)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise FeedError(
                _("The zip file is damaged (%(detail)s).") % {"detail": exc}, where=name
            ) from None


def _read_json(reader: Utf8Reader, where: str, report: ReadReport) -> None:
    walk = JsonWalk(reader, where=where, array_key="")
    for index, item in enumerate(walk.items()):
        report.advisories.append(_advisory(item, index, where, report))
    if not walk.top_is_list:
        report.advisories.append(_advisory(walk.top, None, where, report))


def _advisory(record: Any, index: int | None, where: str, report: ReadReport) -> AdvisoryRecord:
    here = place(where, record_place(index))
    record = mapping(record, _("An OSV record"), here)
    if not isinstance(record.get("id"), str) or "modified" not in record:
        raise FeedError(_("This is not an OSV record: it has no “id” and “modified”."), where=here)
    source_id = text(record, "id", here, required=True)
    here = place(where, record_place(index, source_id))
    summary = text(record, "summary", here).strip()
    if not summary:
        summary = text(record, "details", here).strip().split("\n", 1)[0].strip()
    affected: list[AffectedPackage] = []
    for entry in listed(record, "affected", here):
        affected.extend(_affected(mapping(entry, _("An affected entry"), here), here, report))
    aliases = [
        alias for alias in listed(record, "aliases", here) if isinstance(alias, str)
    ]  # "related" names other flaws, not this one
    references = [
        ref.get("url", "") for ref in listed(record, "references", here) if isinstance(ref, dict)
    ]
    return AdvisoryRecord(
        source="osv",
        source_id=source_id,
        aliases=tuple(alias for alias in unique(aliases) if alias != source_id),
        summary=summary,
        published=timestamp(record, "published", here),
        modified=timestamp(record, "modified", here),
        withdrawn=timestamp(record, "withdrawn", here),
        cvss_vectors=_cvss_vectors(record, here),
        affected=tuple(dict.fromkeys(affected)),
        references=unique([url for url in references if isinstance(url, str)]),
    )


def _cvss_vectors(record: dict[str, Any], where: str) -> tuple[str, ...]:
    vectors = []
    for severity in listed(record, "severity", where):
        if isinstance(severity, dict) and severity.get("type") in {"CVSS_V3", "CVSS_V4"}:
            score = severity.get("score")
            if isinstance(score, str) and score.startswith("CVSS:"):
                vectors.append(score)
    specific = record.get("database_specific")
    cvss = specific.get("cvss") if isinstance(specific, dict) else None
    if isinstance(cvss, dict):
        cvss = cvss.get("vectorString") or cvss.get("vector")
    if isinstance(cvss, str) and cvss.startswith("CVSS:"):
        vectors.append(cvss)
    return unique(vectors)


def _affected(entry: dict[str, Any], where: str, report: ReadReport) -> list[AffectedPackage]:
    package = mapping(entry.get("package", {}), _("An affected package"), where)
    ecosystem = text(package, "ecosystem", where)
    found = _package_key(package, ecosystem, where)
    if found is None:
        report.unknown_ecosystems[ecosystem or "?"] += 1
        return []
    key, scheme = found
    results = []
    for value in listed(entry, "ranges", where):
        range_ = mapping(value, _("A range"), where)
        kind = text(range_, "type", where)
        if kind not in RANGE_TYPES:
            continue  # GIT ranges name commits, which no inventory records
        events = _events(range_, where)
        vers, fixed = _range_vers(scheme, events, where)
        label = f"OSV {ecosystem} {'SEMVER ' if kind == 'SEMVER' else ''}range: "
        rule = label + ", ".join(f"{event} {version}" for event, version in events)
        if vers:
            results.append(AffectedPackage(key, scheme, vers, rule, fixed=fixed))
    listed_versions = [v for v in listed(entry, "versions", where) if isinstance(v, str)]
    if not results and listed_versions:
        vers, ordered = _enumerated_vers(scheme, listed_versions, where)
        named = ", ".join(ordered[:LISTED_IN_RULE])
        if len(ordered) > LISTED_IN_RULE:
            named += f", … ({len(ordered)} versions)"
        results.append(AffectedPackage(key, scheme, vers, f"OSV {ecosystem} versions: {named}"))
    return results


def _package_key(package: dict[str, Any], ecosystem: str, where: str) -> tuple[str, str] | None:
    """The package key and scheme, or None for an ecosystem no scheme compares."""
    purl_text = text(package, "purl", where)
    if purl_text:
        try:
            purl = PackageURL.from_string(purl_text)
        except ValueError as exc:
            raise FeedError(
                _("“%(purl)s” is not a valid Package URL: %(detail)s")
                % {"purl": purl_text, "detail": exc},
                where=where,
            ) from None
        scheme = SCHEME_OF_PURL_TYPE.get(purl.type.lower(), "")
        return (purl_key(purl.type, purl.namespace, purl.name), scheme) if scheme else None
    known = PURL_OF_OSV_ECOSYSTEM.get(ecosystem.split(":", 1)[0])
    name = text(package, "name", where)
    if known is None or not name:
        return None
    purl_type, namespace = known
    if purl_type == "maven":
        name = name.replace(":", "/")  # OSV writes group:artifact
    return purl_key(purl_type, namespace, name), SCHEME_OF_PURL_TYPE[purl_type]


def _events(range_: dict[str, Any], where: str) -> list[tuple[str, str]]:
    events = []
    for value in listed(range_, "events", where):
        event = mapping(value, _("A range event"), where)
        for kind in EVENT_KINDS:
            if kind in event:
                events.append((kind, text(event, kind, where, required=True)))
    return events


def _checked(scheme: str, version: str, where: str) -> Any:
    try:
        check_version(scheme, version)
        version_class: Any = RANGE_CLASS_BY_SCHEMES[scheme].version_class
        return version_class(version)
    except (PackageError, ValueError) as exc:
        raise FeedError(
            _("The version “%(version)s” cannot be read as a %(scheme)s version (%(detail)s).")
            % {"version": version, "scheme": scheme, "detail": exc},
            where=where,
        ) from None


def _range_vers(
    scheme: str, events: list[tuple[str, str]], where: str
) -> tuple[str, tuple[str, ...]]:
    """The vers of an ECOSYSTEM/SEMVER range by OSV's evaluation: sort the events by version,
    then each introduced opens an interval the next fixed (<), last_affected (<=) or limit
    (<) closes. "introduced 0" is from the start. An empty range gives ""."""
    start = ("introduced", "0")
    rest = [event for event in events if event != start and event[1] != "*"]  # "*": no limit
    parsed = {version: _checked(scheme, version, where) for _kind, version in rest}
    ordered = [event for event in events if event == start]
    ordered += sorted(rest, key=lambda event: parsed[event[1]])
    intervals: list[list[str]] = []  # [lower ("" from the start), upper operator, upper]
    current: list[str] | None = None
    for kind, version in ordered:
        if kind == "introduced" and current is None:
            lower = "" if (kind, version) == start else version
            last = intervals[-1] if intervals else None
            if last and lower and last[2] and parsed[last[2]] == parsed[lower]:
                current = intervals.pop()  # a range that resumes where the last one stopped
                current[1:] = ["", ""]
            else:
                current = [lower, "", ""]
        elif kind != "introduced" and current is not None:
            current[1:] = ["<=" if kind == "last_affected" else "<", version]
            intervals.append(current)
            current = None
    if current is not None:
        intervals.append(current)
    constraints = []
    for lower, operator, upper in intervals:
        if lower and upper and parsed[lower] == parsed[upper]:
            if operator == "<=":
                constraints.append(upper)  # from and up to the same version: exactly it
            continue
        constraints += [f">={lower}"] if lower else []
        constraints += [f"{operator}{upper}"] if upper else []
    if intervals and not constraints and not intervals[0][0] and not intervals[0][2]:
        constraints = ["*"]
    fixed = unique([version for kind, version in events if kind == "fixed"])
    if not constraints:
        return "", fixed
    return _valid_vers(f"vers:{scheme}/" + "|".join(constraints), where), fixed


def _enumerated_vers(scheme: str, versions: list[str], where: str) -> tuple[str, list[str]]:
    parsed = {version: _checked(scheme, version, where) for version in versions}
    ordered = sorted(parsed, key=lambda version: parsed[version])
    return _valid_vers(f"vers:{scheme}/" + "|".join(ordered), where), ordered


def _valid_vers(vers: str, where: str) -> str:
    try:
        VersionRange.from_string(vers)
    except Exception as exc:  # univers raises several types for a range it cannot read
        raise FeedError(
            _("The range “%(vers)s” cannot be read (%(detail)s).") % {"vers": vers, "detail": exc},
            where=where,
        ) from None
    return vers
