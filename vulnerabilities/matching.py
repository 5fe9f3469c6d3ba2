"""Which systems run an affected version: components against advisories' affected ranges.

Components and ranges meet on the package key (systems.packages); a range's versions are
compared by the package's own ecosystem rules (univers). CPE ranges match only the exact
vendor and product; a range naming every version (`*`, `-`) makes an item to review, never a
finding by itself; an NVD AND configuration needs one of its platforms on the same system.

Matching is incremental: `for_systems` rematches the systems whose inventory changed, and
`for_packages` the components of the packages a new or changed advisory names. Both read the
rows in a fixed number of queries and compare versions in Python, each distinct range parsed
once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from univers.version_range import RANGE_CLASS_BY_SCHEMES, VersionRange

from systems.models import Component
from vulnerabilities.models import AffectedRange

BATCH = 5000


@dataclass(frozen=True)
class Hit:
    """A component inside an affected range: what a finding records about why it matched."""

    system_id: int
    component_id: int
    package: str
    version: str
    vulnerability_id: int
    range_id: int
    why: str
    fixed_in: str
    review_only: bool

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.system_id, self.vulnerability_id, self.package)


@lru_cache(maxsize=65536)
def _range(vers: str) -> VersionRange | None:
    try:
        return VersionRange.from_string(vers)
    except Exception:  # univers raises several types for a range it cannot read
        return None


@lru_cache(maxsize=262144)
def _version(scheme: str, version: str) -> Any:
    version_class = getattr(RANGE_CLASS_BY_SCHEMES.get(scheme), "version_class", None)
    if version_class is None:
        return None
    try:
        return version_class(version)
    except Exception:  # an unreadable version is not affected: it cannot be compared
        return None


DOTTED = re.compile(r"^\d+(\.\d+)*$")
COMPARE = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


def _dotted(text: str) -> tuple[int, ...]:
    parts = [int(part) for part in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()  # 2.0 is 2.0.0
    return tuple(parts)


def _generic_affected(version: str, vers: str) -> bool | None:
    """A CPE range of dotted numbers (four-part builds too), compared number by number, where
    univers' generic scheme reads semver and drops a fourth part. NVD ranges are either bounds
    that all hold, or exact versions one of which is it. None: not dotted numbers."""
    constraints = vers.partition("/")[2].split("|")
    read = []
    for constraint in constraints:
        operator = next((op for op in (">=", "<=", ">", "<") if constraint.startswith(op)), "")
        value = constraint[len(operator) :]
        if not DOTTED.match(value):
            return None
        read.append((operator, _dotted(value)))
    if not DOTTED.match(version):
        return None
    mine = _dotted(version)
    if all(operator for operator, _value in read):
        return all(COMPARE[operator](mine, value) for operator, value in read)
    return any(not operator and mine == value for operator, value in read)


def affected(scheme: str, version: str, vers: str) -> bool:
    """Whether `version` lies in the univers range `vers`, by the scheme's rules."""
    if vers.startswith("vers:generic/"):
        dotted = _generic_affected(version, vers)
        if dotted is not None:
            return dotted
    versions = _range(vers)
    parsed = _version(scheme, version)
    if versions is None or parsed is None:
        return False
    try:
        return parsed in versions
    except Exception:  # versions of another scheme than the range's: not comparable
        return False


def _above(version: Any, current: Any) -> bool:
    try:
        return bool(version > current)
    except Exception:  # versions that do not compare: not a candidate
        return False


def first_fix_above(scheme: str, version: str, fixed: Iterable[str]) -> str:
    """The lowest fixed version above `version`: what to upgrade to."""
    current = _version(scheme, version)
    candidates = []
    for text in fixed:
        parsed = _version(scheme, text)
        if parsed is not None and current is not None and _above(parsed, current):
            candidates.append((parsed, text))
    return min(candidates)[1] if candidates else ""


RANGE_FIELDS = (
    "pk",
    "package",
    "scheme",
    "vers",
    "fixed",
    "review_only",
    "platforms",
    "rule",
    "advisory__vulnerability_id",
    "advisory__source_id",
)
COMPONENT_FIELDS = ("pk", "system_id", "package", "scheme", "version")


def _live_ranges() -> Any:
    return AffectedRange.objects.filter(
        advisory__withdrawn_at__isnull=True, advisory__vulnerability__withdrawn_at__isnull=True
    )


def _hits(
    components: Iterable[dict[str, Any]], ranges: dict[str, list[dict[str, Any]]]
) -> Iterator[Hit]:
    """Hits of components against ranges grouped by package; platforms not yet checked. The
    ranges are checked once per distinct package, scheme and version (most systems share
    versions); a component at a version seen before takes the ranges found then."""
    matched: dict[tuple[str, str, str], list[tuple[dict[str, Any], str]]] = {}
    for component in components:
        version = component["version"]
        seen = (component["package"], component["scheme"], version)
        found = matched.get(seen)
        if found is None:
            found = []
            for candidate in ranges.get(component["package"], ()):
                # The range's scheme rules: a CPE's "generic" version is compared the range's way.
                scheme = candidate["scheme"] or component["scheme"]
                if candidate["review_only"]:
                    found.append((candidate, ""))
                elif affected(scheme, version, candidate["vers"]):
                    found.append((candidate, first_fix_above(scheme, version, candidate["fixed"])))
            matched[seen] = found
        for candidate, fixed_in in found:
            yield Hit(
                system_id=component["system_id"],
                component_id=component["pk"],
                package=component["package"],
                version=version,
                vulnerability_id=candidate["advisory__vulnerability_id"],
                range_id=candidate["pk"],
                why=f"{candidate['advisory__source_id']}: {candidate['rule']}",
                fixed_in=fixed_in,
                review_only=candidate["review_only"],
            )


def _with_platforms(hits: list[Hit], platforms_of: dict[int, list[str]]) -> list[Hit]:
    """Keep the hits whose range needs no platform, or whose system runs one of them."""
    needed = {key for hit in hits for key in platforms_of.get(hit.range_id, ())}
    if not needed:
        return hits
    systems = {hit.system_id for hit in hits if platforms_of.get(hit.range_id)}
    present = set(
        Component.objects.current()
        .filter(system_id__in=systems, package__in=needed)
        .values_list("system_id", "package")
    )
    return [
        hit
        for hit in hits
        if not platforms_of.get(hit.range_id)
        or any((hit.system_id, key) in present for key in platforms_of[hit.range_id])
    ]


def _best(hits: Iterable[Hit]) -> dict[tuple[int, int, str], Hit]:
    """One hit per finding key: a real match over an item to review, then the first range."""
    best: dict[tuple[int, int, str], Hit] = {}
    for hit in hits:
        kept = best.get(hit.key)
        if kept is None or (kept.review_only and not hit.review_only):
            best[hit.key] = hit
    return best


def _match(
    components: Iterable[dict[str, Any]], packages: Collection[str] | None
) -> dict[tuple[int, int, str], Hit]:
    ranges: dict[str, list[dict[str, Any]]] = defaultdict(list)
    live = _live_ranges()
    if packages is not None:
        live = live.filter(package__in=packages)
    for row in live.values(*RANGE_FIELDS).order_by("pk").iterator(chunk_size=BATCH):
        ranges[row["package"]].append(row)
    platforms_of = {
        row["pk"]: row["platforms"] for rows in ranges.values() for row in rows if row["platforms"]
    }
    hits = list(_hits(components, ranges))
    return _best(_with_platforms(hits, platforms_of))


def for_systems(system_ids: Collection[int]) -> dict[tuple[int, int, str], Hit]:
    """Every hit on these systems' current components."""
    components = list(
        Component.objects.current()
        .filter(system_id__in=system_ids)
        .exclude(scheme="")
        .values(*COMPONENT_FIELDS)
    )
    packages = {row["package"] for row in components}
    return _match(components, packages)


def for_packages(packages: Collection[str]) -> dict[tuple[int, int, str], Hit]:
    """Every hit on the current components of these packages, company-wide."""
    components = (
        Component.objects.current()
        .filter(package__in=packages)
        .exclude(scheme="")
        .values(*COMPONENT_FIELDS)
        .order_by()
        .iterator(chunk_size=BATCH)
    )
    return _match(components, packages)


def for_all() -> dict[tuple[int, int, str], Hit]:
    """Every hit company-wide: the components of every package some live range names,
    streamed from the database (the join narrows them), each checked against its ranges."""
    packages = _live_ranges().values("package")
    components = (
        Component.objects.current()
        .filter(package__in=packages)
        .exclude(scheme="")
        .values(*COMPONENT_FIELDS)
        .order_by()
        .iterator(chunk_size=BATCH)
    )
    return _match(components, None)
