"""Which scanner wrote a report, told from its first bytes, and the reader of each format."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO, Any

from vulnerabilities.scanners import (
    cyclonedx,
    grype,
    masscan,
    nessus,
    nmap,
    openvas,
    sarif,
    trivy,
)
from vulnerabilities.scanners.records import (
    CYCLONEDX,
    GRYPE,
    MASSCAN,
    NESSUS,
    NMAP,
    OPENVAS,
    SARIF,
    TRIVY,
    Record,
)

HEAD_SIZE = 64 * 1024

Reader = Callable[..., Iterator[Record]]
READERS: dict[str, Reader] = {
    TRIVY: trivy.read,
    GRYPE: grype.read,
    NESSUS: nessus.read,
    OPENVAS: openvas.read,
    SARIF: sarif.read,
    CYCLONEDX: cyclonedx.read,
    NMAP: nmap.read,
    MASSCAN: masscan.read,
}

_BOM = b"\xef\xbb\xbf"
# What may come before an XML document's root element: the declaration, processing
# instructions, comments and a DOCTYPE (with an internal subset, whose entities are never
# read here).
_PROLOG = re.compile(
    rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[[^\]]*\])*>)",
    re.DOTALL | re.IGNORECASE,
)
_ROOT = re.compile(rb"\s*<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
XML_ROOTS = {
    "NessusClientData_v2": NESSUS,
    "nmaprun": NMAP,
    "report": OPENVAS,
    "get_reports_response": OPENVAS,
}


def _key(name: str) -> re.Pattern[bytes]:
    return re.compile(rb'"' + re.escape(name.encode()) + rb'"\s*:')


_CYCLONEDX = re.compile(rb'"bomFormat"\s*:\s*"CycloneDX"')
_SARIF_SCHEMA = re.compile(rb'"\$schema"\s*:\s*"[^"]*sarif', re.IGNORECASE)
_SARIF_VERSION = re.compile(rb'"version"\s*:\s*"2\.1\.0"')
_RUNS, _DRIVER = _key("runs"), _key("driver")
_SCHEMA_VERSION, _ARTIFACT, _RESULTS, _CLUSTER = (
    _key("SchemaVersion"),
    _key("ArtifactName"),
    _key("Results"),
    _key("ClusterName"),
)
_MATCHES, _ARTIFACT_KEY, _VULNERABILITY, _DESCRIPTOR = (
    _key("matches"),
    _key("artifact"),
    _key("vulnerability"),
    _key("descriptor"),
)
_IP, _PORTS = _key("ip"), _key("ports")


def detect(head: bytes) -> str | None:
    """The format of a report from its first bytes (up to 64 KiB), or None."""
    head = head[:HEAD_SIZE]
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    start = head.lstrip()[:1]
    if start in {b"{", b"["}:
        return _json_format(head, is_list=start == b"[")
    if start == b"<":
        return _xml_format(head)
    return None


def _json_format(head: bytes, *, is_list: bool) -> str | None:
    if is_list:
        return MASSCAN if _IP.search(head) and _PORTS.search(head) else None
    if _CYCLONEDX.search(head):
        return CYCLONEDX
    if _RUNS.search(head) and (
        _SARIF_SCHEMA.search(head) or (_SARIF_VERSION.search(head) and _DRIVER.search(head))
    ):
        return SARIF
    if _CLUSTER.search(head) or (
        _SCHEMA_VERSION.search(head) and (_ARTIFACT.search(head) or _RESULTS.search(head))
    ):
        return TRIVY
    if _MATCHES.search(head) and (
        _DESCRIPTOR.search(head) or (_ARTIFACT_KEY.search(head) and _VULNERABILITY.search(head))
    ):
        return GRYPE
    return None


def _xml_format(head: bytes) -> str | None:
    position = 0
    while True:
        prolog = _PROLOG.match(head, position)
        if prolog is None:
            break
        position = prolog.end()
    root = _ROOT.match(head, position)
    if root is None:
        return None
    return XML_ROOTS.get(root.group(1).decode("ascii"))


def detect_stream(stream: IO[bytes]) -> str | None:
    """The format of a seekable report, read from its start (the stream is left at 0)."""
    stream.seek(0)
    head = stream.read(HEAD_SIZE)
    stream.seek(0)
    return detect(head)


def reader(format_: str) -> Callable[..., Any]:
    """The `read` function of a format constant (KeyError for an unknown one)."""
    return READERS[format_]
