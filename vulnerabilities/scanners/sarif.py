"""SARIF 2.1.0 logs of security scanners read into scan records: one host per run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.utils.translation import gettext_noop as N_

from vulnerabilities.feeds.common import listed, mapping, place, text, unique
from vulnerabilities.feeds.common import timestamp as read_timestamp
from vulnerabilities.records import FeedError
from vulnerabilities.scanners.jsonstream import (
    Event,
    build,
    clip,
    cvss_vector,
    digest,
    events,
    guarded,
    mapping_of,
    not_this_format,
    package_from_purl,
    package_key,
    purl_type_of,
    refuse_other,
    score,
    severity_of_score,
    skip,
    vulnerability_id,
)
from vulnerabilities.scanners.records import SARIF, Host, Observation, Record, ReportInfo, Tally

LEVELS = {"error": "high", "warning": "medium", "note": "low", "none": "none"}
SKIPPED_KINDS = {"pass", "notApplicable", "informational"}
# Trivy writes "Package: X\nInstalled Version: Y\n…Fixed Version: Z" in each result's message.
_TRIVY_PACKAGE = re.compile(r"^Package: (?P<name>.+)$", re.MULTILINE)
_TRIVY_INSTALLED = re.compile(r"^Installed Version: (?P<version>.+)$", re.MULTILINE)
_TRIVY_FIXED = re.compile(r"^Fixed Version: (?P<version>.*)$", re.MULTILINE)
# Grype writes "… reports NAME at version VERSION which … (TYPE) package …".
_GRYPE_PACKAGE = re.compile(
    r"reports (?P<name>\S+) at version (?P<version>\S+) .*?\((?P<type>[\w.-]+)\) package"
)


@dataclass
class _Rule:
    severity: str  # from security-severity; "" when the rule gives none
    default: str  # from the rule's default level; ""
    title: str
    vector: str
    score: Decimal | None
    package_type: str


@dataclass
class _Run:
    tool: str = ""
    rules: dict[str, _Rule] = field(default_factory=dict)
    rule_ids: list[str] = field(default_factory=list)  # in the driver's order (ruleIndex)
    properties: dict[str, Any] = field(default_factory=dict)
    artifact: str = ""
    first_uri: str = ""
    started: Any = None
    finished: Any = None


def read(stream: IO[bytes], *, where: str, tally: Tally) -> Iterator[Record]:
    """The log, then for each run its host and its results.

    A first pass reads each run's tool, rules and what it looked at; the second hands out the
    results one at a time.
    """
    return guarded(_read(stream, where, tally), where)


def _read(stream: IO[bytes], where: str, tally: Tally) -> Iterator[Record]:
    refuse_other(stream, where, SARIF, "SARIF")
    version, runs = _first_pass(stream, where)
    if version is None or runs is None:
        raise not_this_format(stream, where, "SARIF")
    if version != "2.1.0":
        raise FeedError(
            _("SARIF version %(version)s is not supported (only 2.1.0).") % {"version": version},
            where=where,
        )
    first = runs[0] if runs else _Run()
    yield ReportInfo(
        format=SARIF,
        tool=first.tool or "SARIF",
        started_at=first.started,
        finished_at=first.finished,
    )
    refs: list[str] = []
    for index, run in enumerate(runs):
        ref = run.artifact or run.first_uri or run.tool or f"run {index + 1}"
        if ref in refs:
            ref = f"{ref} ({index + 1})"
        refs.append(ref)
        digests = [digest(run.properties.get("imageID"))]
        repo_digests = run.properties.get("repoDigests")
        if isinstance(repo_digests, list):
            digests.extend(digest(value) for value in repo_digests)
        yield Host(ref=ref, target=ref, image_digests=unique(digests))
    yield from _results(stream, where, runs, refs, tally)


def _first_pass(stream: IO[bytes], where: str) -> tuple[Any, list[_Run] | None]:
    version: Any = None
    runs: list[_Run] | None = None
    parsed = events(stream, where)
    _prefix, first, _value = next(parsed)
    if first != "start_map":
        raise not_this_format(stream, where, "SARIF")
    for prefix, event, value in parsed:
        if prefix == "version" and event == "string":
            version = value
        elif prefix == "runs" and event == "start_array":
            runs = []
        elif prefix == "runs.item" and event == "start_map" and runs is not None:
            runs.append(_Run())
        elif runs and prefix.startswith("runs.item."):
            _note_run(
                runs[-1], parsed, prefix.removeprefix("runs.item."), event, value, where=where
            )
        elif prefix.count(".") == 0 and prefix and event in {"start_map", "start_array"}:
            skip(parsed, event)
    return version, runs


def _note_run(
    run: _Run, parsed: Iterator[Event], prefix: str, event: str, value: Any, *, where: str
) -> None:
    """What the first pass keeps of one event inside a run."""
    if prefix == "tool" and event == "start_map":
        _tool(run, mapping(build(parsed, event), "tool", where), where)
    elif prefix == "properties" and event == "start_map":
        run.properties = mapping(build(parsed, event), "properties", where)
        name = run.properties.get("imageName")
        if isinstance(name, str) and name:
            run.artifact = name
    elif prefix == "artifacts.item.location.uri" and event == "string":
        run.artifact = run.artifact or value
    elif prefix == "invocations.item" and event == "start_map":
        invocation = build(parsed, event)
        if isinstance(invocation, dict) and run.started is None:
            at = place(where, "invocations")
            run.started = read_timestamp(invocation, "startTimeUtc", at)
            run.finished = read_timestamp(invocation, "endTimeUtc", at)
    elif (
        prefix.startswith("results.item.locations.item.physicalLocation")
        and prefix.endswith("artifactLocation.uri")
        and event == "string"
    ):
        run.first_uri = run.first_uri or value


def _tool(run: _Run, tool: dict[str, Any], where: str) -> None:
    driver = mapping(tool.get("driver"), "tool.driver", where)
    name = text(driver, "name", where, required=True)
    version = text(driver, "version", where) or text(driver, "semanticVersion", where)
    run.tool = f"{name} {version}".strip()
    for index, value in enumerate(listed(driver, "rules", where)):
        at = place(where, f"tool.driver.rules[{index}]")
        rule = mapping_of(value, N_("A rule"), at)
        rule_id = text(rule, "id", at, required=True)
        properties = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
        assert isinstance(properties, dict)
        run.rules[rule_id] = _read_rule(rule, properties, at)
        run.rule_ids.append(rule_id)


def _read_rule(rule: dict[str, Any], properties: dict[str, Any], at: str) -> _Rule:
    security = score(_number(properties.get("security-severity")))
    configuration = rule.get("defaultConfiguration")
    level = text(configuration, "level", at) if isinstance(configuration, dict) else ""
    level_severity = LEVELS.get(level, "")
    vector = ""
    vector_score: Decimal | None = None
    for key, value in properties.items():
        found = cvss_vector(value)
        if found and found > vector:
            vector = found
            base = key.rsplit("_", 1)[0] + "_baseScore"
            vector_score = score(_number(properties.get(base)))
    short = rule.get("shortDescription")
    title = text(short, "text", at) if isinstance(short, dict) else ""
    package_type = ""
    for key in ("purl", "packageType", "package-type"):
        value = properties.get(key)
        if isinstance(value, str) and value:
            package_type = value
    return _Rule(
        severity=severity_of_score(security) if security is not None else "",
        default=level_severity,
        title=title,
        vector=vector,
        score=vector_score if vector_score is not None else security,
        package_type=package_type,
    )


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except ArithmeticError:
            return None
    return value


def _results(
    stream: IO[bytes], where: str, runs: list[_Run], refs: list[str], tally: Tally
) -> Iterator[Observation]:
    parsed = events(stream, where)
    run_index = -1
    result_index = -1
    for prefix, event, _value in parsed:
        if prefix == "runs.item" and event == "start_map":
            run_index += 1
            result_index = -1
        elif prefix == "runs.item.results.item" and event == "start_map":
            result_index += 1
            at = place(where, f"runs[{run_index}].results[{result_index}]")
            item = mapping_of(build(parsed, event), N_("A result"), at)
            found = _result(item, runs[run_index], refs[run_index], at, tally)
            if found is not None:
                yield found


def _result(
    item: dict[str, Any], run: _Run, host: str, at: str, tally: Tally
) -> Observation | None:
    if text(item, "kind", at) in SKIPPED_KINDS:
        tally.skip(gettext_noop("result that is not a finding"))
        return None
    given = item.get("rule")
    reference: dict[str, Any] = given if isinstance(given, dict) else {}
    rule_id = text(item, "ruleId", at) or text(reference, "id", at)
    index = item.get("ruleIndex", reference.get("index"))
    if not rule_id and type(index) is int and 0 <= index < len(run.rule_ids):
        rule_id = run.rule_ids[index]
    if not rule_id.strip():
        raise FeedError(_("The field “%(key)s” is missing.") % {"key": "ruleId"}, where=at)
    at = place(at, rule_id)
    rule = run.rules.get(rule_id)
    message_value = item.get("message")
    message = text(message_value, "text", at) if isinstance(message_value, dict) else ""
    level = text(item, "level", at)
    level_severity = (
        (rule.severity if rule is not None else "")
        or LEVELS.get(level, "")
        or (rule.default if rule is not None else "")
        or LEVELS["warning"]  # SARIF's default level
    )
    uri = _uri(item, at)
    package, version, fixed = _package(message, rule, uri)
    return Observation(
        host=host,
        names=(vulnerability_id(rule_id),),
        title=(rule.title if rule is not None else "") or clip(message.split("\n", 1)[0], 200),
        severity=level_severity,
        package=package,
        version=version,
        fixed_in=fixed,
        cvss_vector=rule.vector if rule is not None else "",
        cvss_score=rule.score if rule is not None else None,
        detail=clip(message),
    )


def _uri(item: dict[str, Any], at: str) -> str:
    for value in listed(item, "locations", at):
        location = value.get("physicalLocation") if isinstance(value, dict) else None
        artifact = location.get("artifactLocation") if isinstance(location, dict) else None
        uri = artifact.get("uri") if isinstance(artifact, dict) else None
        if isinstance(uri, str) and uri:
            return uri
    return ""


def _package(message: str, rule: _Rule | None, uri: str) -> tuple[str, str, str]:
    """Package key, installed and fixed version when the log says them; else the file."""
    package_type = rule.package_type if rule is not None else ""
    name = version = fixed = ""
    trivy = _TRIVY_PACKAGE.search(message)
    if trivy:
        name = trivy.group("name").strip()
        installed = _TRIVY_INSTALLED.search(message)
        version = installed.group("version").strip() if installed else ""
        fixed_match = _TRIVY_FIXED.search(message)
        fixed = fixed_match.group("version").strip() if fixed_match else ""
    grype = _GRYPE_PACKAGE.search(message)
    if grype and not name:
        name, version = grype.group("name"), grype.group("version")
        package_type = package_type or grype.group("type")
    if package_type.startswith("pkg:"):
        return package_from_purl(package_type) or f"file:{uri}", version, fixed
    if name and package_type and purl_type_of(package_type):
        return package_key(package_type, name), version, fixed
    return f"file:{uri}", version, fixed
