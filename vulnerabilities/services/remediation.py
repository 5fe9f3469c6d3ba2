"""Remediation work: open findings become actions for the owning unit, one per system and
component upgrade, settled when the findings it covers are closed.

"Upgrade log4j-core 2.14.1 to 2.17.1 on X" covers every open finding of that package on that
system; a finding appearing while such work is unfinished joins it. The work is issued under
the CISO's office by the standing rule of the remediation deadlines (actions.standing), due by
the earliest deadline of what it covers, so the chase ladder takes it to the committee when
late. When none of its findings is open any more it is verified (some were fixed) or cancelled
(all were set aside). A KEV-listed critical on an internet-facing system tells the CISO at once,
with the suspension offered, reason written, for the CISO to decide.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from accounts.models import OfficeCode, User
from actions import standing
from actions.models import Action
from outbox import relay as outbox
from systems.packages import SCHEME_OF_PURL_TYPE
from vulnerabilities.matching import _version
from vulnerabilities.models import Finding, Priority, Severity
from vulnerabilities.tasks import tell_ciso_of_exploited

F = Finding.State
LIVE = [F.OPEN, F.REVIEW]
BATCH = 5000
UNFINISHED = [
    Action.Status.OPEN,
    Action.Status.IN_PROGRESS,
    Action.Status.SUBMITTED,
    Action.Status.RETURNED,
]
# What planning work reads of a finding, in Planned's order.
PLANNED_FIELDS = [
    "pk", "system_id", "package", "version", "fixed_in", "priority", "due_on",
    "system__unit_id", "system__code", "system__internet_facing", "vulnerability__key",
    "vulnerability__kev", "vulnerability__severity", "component__scheme", "component__name",
]  # fmt: skip
ACTION_PRIORITY: dict[str, str] = {
    Priority.P1: Action.Priority.URGENT,
    Priority.P2: Action.Priority.HIGH,
    Priority.P3: Action.Priority.NORMAL,
    Priority.P4: Action.Priority.LOW,
}


def _target(scheme: str, versions: Collection[str]) -> str:
    """The highest of the fixed versions: the one upgrade that fixes them all."""
    known = [(v, _version(scheme, v)) for v in versions if v]
    known = [(text, parsed) for text, parsed in known if parsed is not None]
    if not known:
        return ""
    try:
        return max(known, key=lambda pair: pair[1])[0]
    except TypeError:
        return ""


def _title(name: str, version: str, target: str, code: str) -> str:
    if target:
        return _("Upgrade %(name)s %(version)s to %(target)s on %(system)s") % {
            "name": name, "version": version, "target": target, "system": code,
        }  # fmt: skip
    return _("Replace or remove %(name)s %(version)s on %(system)s (no fixed version known)") % {
        "name": name, "version": version, "system": code,
    }  # fmt: skip


class Planned(NamedTuple):
    """What planning work reads of an open finding, as one row (a hundred thousand findings
    load in a second as rows, in ten as model instances with their system and component). A
    caller that has just written new findings may hand them over as such rows."""

    pk: int
    system_id: int
    package: str
    version: str
    fixed_in: str
    priority: str
    due_on: dt.date | None
    unit_id: int
    code: str
    internet_facing: bool
    key: str
    kev: bool
    severity: str
    scheme: str | None
    name: str | None


def _plan(
    opened: Collection[int], actor: User | None, known: Collection[Planned] = ()
) -> list[int]:
    """Give each open finding without work the unfinished work of its system and package, or
    new work for it: the new work issued set-based, the findings linked in batched updates.
    `known` are findings just written, open and without work, as rows: not read again."""
    findings: list[Planned] = list(known)
    given = {finding.pk for finding in known}
    wanted = sorted(set(opened) - given)
    for start in range(0, len(wanted), BATCH):
        findings += map(
            Planned._make,
            Finding.objects.filter(pk__in=wanted[start : start + BATCH], state=F.OPEN)
            .filter(Q(action__isnull=True) | ~Q(action__status__in=UNFINISHED))
            .order_by("system_id", "package", "pk")
            .values_list(*PLANNED_FIELDS),
        )
    groups: dict[tuple[int, str], list[Planned]] = defaultdict(list)
    for finding in findings:
        groups[(finding.system_id, finding.package)].append(finding)
    if not groups:
        return []
    running: dict[tuple[int, str], int | None] = {}
    for system_id, package, running_id in Finding.objects.filter(
        system_id__in={key[0] for key in groups},
        package__in={key[1] for key in groups},
        action__status__in=UNFINISHED,
    ).values_list("system_id", "package", "action_id"):
        running[(system_id, package)] = running_id
    new_groups = [key for key in groups if running.get(key) is None]
    works = [_work(groups[key]) for key in new_groups]
    created = standing.issue_standing_work_many(
        office=OfficeCode.CISO, works=works, caused_by=actor
    )
    running.update(zip(new_groups, created, strict=False))
    linked: dict[int, list[int]] = defaultdict(list)
    for key, group in groups.items():
        action_id = running.get(key)
        if action_id is not None:
            linked[action_id] += [finding.pk for finding in group]
    _link(linked)
    for finding in findings:
        if finding.kev and finding.severity == Severity.CRITICAL and finding.internet_facing:
            outbox.enqueue(tell_ciso_of_exploited, finding.pk)
    return created


def _link(linked: dict[int, list[int]]) -> None:
    """Findings onto their work: on PostgreSQL one UPDATE ... FROM unnest a batch (a CASE of
    thousands of branches costs more than the rows it writes), elsewhere one UPDATE a piece of
    work."""
    pairs = [(pk, action_id) for action_id, pks in linked.items() for pk in pks]
    if connection.vendor == "postgresql":
        table = Finding._meta.db_table
        with connection.cursor() as cursor:
            for start in range(0, len(pairs), BATCH * 4):
                chunk = pairs[start : start + BATCH * 4]
                cursor.execute(
                    f"UPDATE {table} AS f SET action_id = v.action_id "  # noqa: S608  # nosec B608 - our table
                    "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, action_id) "
                    "WHERE f.id = v.id",
                    [[pk for pk, _a in chunk], [a for _pk, a in chunk]],
                )
        return
    for action_id, pks in linked.items():
        for start in range(0, len(pks), BATCH):
            Finding.objects.filter(pk__in=pks[start : start + BATCH]).update(action_id=action_id)


def _work(group: list[Planned]) -> standing.Work:
    """The one upgrade that fixes a system's findings of one package (a package only a scanner
    saw compares its versions by its Package URL type's rules)."""
    first = group[0]
    scheme = first.scheme or _scheme_of(first.package)
    name = first.name or first.package.rsplit("/", 1)[-1]
    target = _target(scheme, [f.fixed_in for f in group])
    keys = sorted({f.key for f in group})
    return standing.Work(
        unit_id=first.unit_id,
        title=_title(name, first.version, target, first.code),
        due_on=min(f.due_on for f in group if f.due_on is not None),
        description=_("Fixes %(count)s finding(s): %(keys)s.")
        % {"count": len(group), "keys": ", ".join(keys)},
        priority=ACTION_PRIORITY[min(f.priority for f in group)],
        system_id=first.system_id,
    )


def _scheme_of(package: str) -> str:
    """The version scheme of a package key's Package URL type ("" for a port or a file)."""
    if not package.startswith("pkg:"):
        return ""
    return SCHEME_OF_PURL_TYPE.get(package[4:].split("/", 1)[0], "")


def tell_ciso_of(findings: Iterable[Finding]) -> None:
    """Exploited in the wild, critical, and reachable from the internet: the CISO hears now
    (once per finding's work: the task's notice is unique)."""
    for finding in findings:
        system, vulnerability = finding.system, finding.vulnerability
        if not (
            vulnerability.kev
            and vulnerability.severity == Severity.CRITICAL
            and system.internet_facing
        ):
            continue
        outbox.enqueue(tell_ciso_of_exploited, finding.pk)


def _settle(closed: Collection[int], actor: User | None) -> int:
    """Work none of whose findings is open any more: verified if any was fixed, else
    cancelled (every one was set aside)."""
    action_ids = set(
        Finding.objects.filter(pk__in=closed, action__status__in=UNFINISHED).values_list(
            "action_id", flat=True
        )
    )
    if not action_ids:
        return 0
    # The states of every finding each piece of work covers, in one grouped query.
    covered: dict[int, Counter[str]] = defaultdict(Counter)
    for action_id, state, count in (
        Finding.objects.filter(action_id__in=action_ids)
        .order_by()
        .values_list("action_id", "state")
        .annotate(count=Count("pk"))
    ):
        covered[action_id][state] = count
    settled = 0
    finished = [pk for pk in action_ids if not any(covered[pk][state] for state in LIVE)]
    for action in Action.objects.filter(pk__in=finished).order_by("pk"):
        states = covered[action.pk]
        done = states[F.FIXED] > 0
        note = (
            _("Every finding it covered is fixed (%(fixed)s).") % {"fixed": states[F.FIXED]}
            if done and states[F.FIXED] == sum(states.values())
            else _(
                "No finding it covered is open: %(fixed)s fixed, %(aside)s set aside or withdrawn."
            )
            % {"fixed": states[F.FIXED], "aside": sum(states.values()) - states[F.FIXED]}
        )
        standing.settle_on_evidence(action=action, done=done, note=note, caused_by=actor)
        settled += 1
    return settled


def follow(
    *,
    opened: Collection[int],
    closed: Collection[int],
    actor: User | None,
    known: Collection[Planned] = (),
) -> dict[str, Any]:
    """The work that follows findings opened and closed (`known`: new ones, as rows)."""
    created = _plan(opened, actor, known) if opened or known else []
    settled = _settle(closed, actor) if closed else 0
    return {"created": len(created), "settled": settled}
