"""Findings: made and closed by matching, set aside or accepted by people, reopened by time.

Matching decides what is found (vulnerabilities.matching); `reconcile` turns its hits into
findings in one pass: new hits open findings (or items to review), hits that come back reopen
fixed ones, findings no longer hit are fixed (or withdrawn with their advisory) unless the
latest scan that looked still sees them (vulnerabilities.services.scans). A false positive and
an accepted risk stay set aside while they match; an acceptance reopens the day it expires.
Each change of a system's findings is one audit event, and remediation work follows
(vulnerabilities.services.remediation).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User
from audit import services as audit
from config.errors import Conflict
from config.versioning import check_version
from systems.models import System
from vulnerabilities import matching, policy, scoring
from vulnerabilities.models import Finding, RemediationDeadline, Vulnerability
from vulnerabilities.services import remediation

F = Finding.State
# People's acts on a finding, declared once. Matching's own moves (opened, fixed, reopened,
# withdrawn) follow the inventory and the advisories: `reconcile` below.
FINDING_FLOW: dict[str, dict[str, str]] = {
    "mark_false_positive": {F.OPEN: F.FALSE_POSITIVE, F.REVIEW: F.FALSE_POSITIVE},
    "confirm": {F.REVIEW: F.OPEN},
    "accept": {F.OPEN: F.ACCEPTED},
}
ACT_NAMES = {
    "mark_false_positive": _lazy("marked a false positive"),
    "confirm": _lazy("confirmed"),
    "accept": _lazy("accepted"),
}
LIVE = {F.OPEN, F.REVIEW}
SET_ASIDE = {F.FALSE_POSITIVE, F.ACCEPTED}
FINDING_FIELDS = [
    "component",
    "version",
    "affected_range",
    "why",
    "fixed_in",
    "state",
    "severity",
    "priority",
    "due_on",
    "opened_at",
    "fixed_at",
    "reopened",
    "version_number",
    "updated_at",
]


@dataclass
class Outcome:
    """What a reconcile changed: counts by kind, and the findings opened and closed."""

    counts: Counter[str] = field(default_factory=Counter)
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    systems: set[int] = field(default_factory=set)

    def merge(self, other: Outcome) -> None:
        self.counts.update(other.counts)
        self.opened += other.opened
        self.closed += other.closed
        self.systems |= other.systems


def deadlines() -> dict[str, int]:
    """The CISO's days to fix, per priority (a priority without its row, as in a database
    emptied by hand, falls back to the days the product starts with)."""
    return {
        **RemediationDeadline.DEFAULT_DAYS,
        **dict(RemediationDeadline.objects.values_list("priority", "days")),
    }


def _rated(
    finding: Finding, vulnerability: dict[str, Any], system: dict[str, Any], days: dict[str, int]
) -> None:
    """Severity, priority and due date of a finding from its vulnerability and system."""
    finding.severity = vulnerability["severity"]
    finding.priority = scoring.priority(
        severity=vulnerability["severity"], kev=vulnerability["kev"], system=system
    )
    finding.due_on = scoring.due_on(
        opened=timezone.localtime(finding.opened_at).date(),
        priority=finding.priority,
        deadlines=days,
        kev_due_on=vulnerability["kev_due_on"],
    )


SYSTEM_FIELDS = (
    "pk", "code", "unit_id", "internet_facing", "handles_personal_data", "criticality"
)  # fmt: skip
VULNERABILITY_FIELDS = ("pk", "key", "severity", "kev", "kev_due_on", "withdrawn_at")


def _facts(
    system_ids: Collection[int], vulnerability_ids: Collection[int]
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    systems = {
        row["pk"]: row for row in System.objects.filter(pk__in=system_ids).values(*SYSTEM_FIELDS)
    }
    vulnerabilities = {
        row["pk"]: row
        for row in Vulnerability.objects.filter(pk__in=vulnerability_ids).values(
            *VULNERABILITY_FIELDS
        )
    }
    return systems, vulnerabilities


def reconcile(
    hits: dict[tuple[int, int, str], matching.Hit], scope: Any, *, actor: User | None
) -> Outcome:
    """Bring the findings in `scope` (a Finding queryset: the systems or packages rematched)
    in line with `hits`, which are every hit within that scope."""
    now = timezone.now()
    outcome = Outcome()
    existing = {
        (f.system_id, f.vulnerability_id, f.package): f
        for f in scope.select_for_update().order_by("pk")
    }
    systems, vulnerabilities = _facts(
        {key[0] for key in hits} | {key[0] for key in existing},
        {key[1] for key in hits} | {key[1] for key in existing},
    )
    days = deadlines()
    created: list[Finding] = []
    changed: list[Finding] = []
    for key, hit in hits.items():
        found = existing.get(key)
        state = F.REVIEW if hit.review_only else F.OPEN
        if found is None:
            finding = Finding(
                system_id=hit.system_id,
                vulnerability_id=hit.vulnerability_id,
                package=hit.package,
                component_id=hit.component_id,
                version=hit.version,
                affected_range_id=hit.range_id,
                why=hit.why[:1200],
                fixed_in=hit.fixed_in,
                state=state,
                first_seen_at=now,
                opened_at=now,
            )
            _rated(finding, vulnerabilities[hit.vulnerability_id], systems[hit.system_id], days)
            created.append(finding)
            outcome.counts["review" if hit.review_only else "opened"] += 1
            outcome.systems.add(hit.system_id)
            continue
        before = (found.component_id, found.version, found.why, found.state)
        found.component_id, found.version = hit.component_id, hit.version
        found.affected_range_id, found.why, found.fixed_in = (
            hit.range_id,
            hit.why[:1200],
            hit.fixed_in,
        )
        if found.state in {F.FIXED, F.WITHDRAWN} or (
            found.state == F.REVIEW and not hit.review_only
        ):
            if found.state != F.REVIEW:
                found.reopened += 1
                outcome.counts["reopened"] += 1
            else:
                outcome.counts["opened"] += 1
            found.state, found.opened_at, found.fixed_at = state, now, None
            _rated(found, vulnerabilities[hit.vulnerability_id], systems[hit.system_id], days)
            outcome.opened.append(found.pk)
        if (found.component_id, found.version, found.why, found.state) != before:
            found.version_number += 1
            found.updated_at = now
            changed.append(found)
            outcome.systems.add(found.system_id)
    for key, found in existing.items():
        if key in hits or found.state not in LIVE or _held_by_scan(found, now, changed):
            continue
        withdrawn = vulnerabilities[found.vulnerability_id]["withdrawn_at"] is not None
        found.state = F.WITHDRAWN if withdrawn else F.FIXED
        found.fixed_at, found.component_id = now, None
        found.version_number += 1
        found.updated_at = now
        changed.append(found)
        outcome.closed.append(found.pk)
        outcome.counts["withdrawn" if withdrawn else "fixed"] += 1
        outcome.systems.add(found.system_id)
    Finding.objects.bulk_create(created, batch_size=2000)
    Finding.objects.bulk_update(changed, FINDING_FIELDS, batch_size=2000)
    outcome.opened += [f.pk for f in created if f.state == F.OPEN]
    _record(
        outcome,
        actor=actor,
        hits=hits,
        created=created,
        changed=changed,
        vulnerabilities=vulnerabilities,
    )
    return outcome


def _held_by_scan(found: Finding, now: dt.datetime, changed: list[Finding]) -> bool:
    """The inventory no longer carries it, but the latest scan that looked still saw it: it
    stays open, held by the scan (services.scans closes it when one no longer sees it)."""
    if not found.seen_by_scan:
        return False
    if found.component_id is not None:
        found.component_id = None
        found.version_number += 1
        found.updated_at = now
        changed.append(found)
    return True


def _record(
    outcome: Outcome,
    *,
    actor: User | None,
    hits: Any,
    created: list[Finding],
    changed: list[Finding],
    vulnerabilities: dict[int, dict[str, Any]],
) -> None:
    """The audit event of a change of findings: on the system when one system changed, else
    one event for the whole change."""
    by_system: dict[int, Counter[str]] = defaultdict(Counter)
    names: dict[int, set[str]] = defaultdict(set)
    for finding in [*created, *changed]:
        by_system[finding.system_id][finding.state] += 1
        names[finding.system_id].add(vulnerabilities[finding.vulnerability_id]["key"])
    if len(by_system) == 1:
        system = System.objects.get(pk=next(iter(by_system)))
        audit.record(
            actor=actor,
            verb="system.findings_matched",
            target=system,
            details={
                "states": dict(sorted(by_system[system.pk].items())),
                "vulnerabilities": sorted(names[system.pk])[:50],
            },
        )
    elif by_system:
        # A company-wide rematch or an advisory's packages: one event for the whole change,
        # naming the systems it touched (the first hundred), not one event a system.
        totals: Counter[str] = Counter()
        for counts in by_system.values():
            totals.update(counts)
        codes = dict(
            System.objects.filter(pk__in=sorted(by_system)[:100]).values_list("pk", "code")
        )
        audit.record(
            actor=actor,
            verb="findings.matched",
            details={
                "systems": len(by_system),
                "states": dict(sorted(totals.items())),
                "by_system": {
                    codes[pk]: dict(sorted(by_system[pk].items())) for pk in sorted(codes)
                },
            },
        )


@transaction.atomic
def rematch_systems(*, system_ids: Collection[int], actor: User | None) -> Outcome:
    """After a change of these systems' inventory: their findings against every advisory."""
    outcome = reconcile(
        matching.for_systems(system_ids),
        Finding.objects.filter(system_id__in=system_ids),
        actor=actor,
    )
    remediation.follow(opened=outcome.opened, closed=outcome.closed, actor=actor)
    return outcome


@transaction.atomic
def rematch_packages(*, packages: Collection[str], actor: User | None) -> Outcome:
    """After a new or changed advisory: the components of the packages it names, company-wide."""
    outcome = Outcome()
    if packages:
        outcome = reconcile(
            matching.for_packages(packages),
            Finding.objects.filter(package__in=packages),
            actor=actor,
        )
    remediation.follow(opened=outcome.opened, closed=outcome.closed, actor=actor)
    return outcome


@transaction.atomic
def rematch_all(*, actor: User | None) -> Outcome:
    """Every system against every advisory (after a change of the matching rules, or to check
    that incremental matching has missed nothing: it changes nothing then)."""
    outcome = reconcile(matching.for_all(), Finding.objects.all(), actor=actor)
    remediation.follow(opened=outcome.opened, closed=outcome.closed, actor=actor)
    return outcome


def rerate(*, vulnerability_ids: Collection[int]) -> int:
    """Severity, priority and due date of the open findings of these vulnerabilities again (a
    new CVSS vector, a KEV listing). The due date only ever comes closer."""
    findings = list(
        Finding.objects.select_for_update()
        .filter(vulnerability_id__in=vulnerability_ids, state__in=LIVE)
        .order_by("pk")
    )
    systems, vulnerabilities = _facts(
        {f.system_id for f in findings}, {f.vulnerability_id for f in findings}
    )
    days = deadlines()
    changed = []
    for finding in findings:
        before = (finding.severity, finding.priority, finding.due_on)
        due = finding.due_on
        _rated(finding, vulnerabilities[finding.vulnerability_id], systems[finding.system_id], days)
        if due is not None and finding.due_on is not None and due < finding.due_on:
            finding.due_on = due
        if (finding.severity, finding.priority, finding.due_on) != before:
            finding.version_number += 1
            finding.updated_at = timezone.now()
            changed.append(finding)
    Finding.objects.bulk_update(
        changed, ["severity", "priority", "due_on", "version_number", "updated_at"]
    )
    return len(changed)


# --- People's decisions -----------------------------------------------------------------------


def _locked(finding: Finding, expected_version: str | None) -> Finding:
    finding = (
        Finding.objects.select_for_update()
        .select_related("system", "vulnerability")
        .get(pk=finding.pk)
    )
    check_version(finding, expected_version)
    return finding


def _move(finding: Finding, act: str) -> str:
    """Where a person's act takes the finding (FINDING_FLOW), or a 409 saying where it stands."""
    target = FINDING_FLOW[act].get(finding.state)
    if target is None:
        raise Conflict(
            _("This finding is “%(state)s”: it cannot be %(act)s.")
            % {"state": finding.get_state_display(), "act": ACT_NAMES[act]},
            code="finding_state",
        )
    return target


def _save(finding: Finding, fields: list[str]) -> None:
    finding.version_number += 1
    finding.save(update_fields=[*fields, "version_number", "updated_at"])


@transaction.atomic
def mark_false_positive(
    *, actor: User, finding: Finding, reason: str, expected_version: str | None = None
) -> Finding:
    """The unit's security officer or the CISO's office says the finding is not real (an item
    to review dismissed is the same act). It stays set aside while it matches."""
    office = policy.triage_office(actor, finding)
    if office is None:
        raise PermissionDenied(
            _("Only the unit's security officer or the CISO's office marks a false positive.")
        )
    finding = _locked(finding, expected_version)
    to = _move(finding, "mark_false_positive")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why it is a false positive.")})
    previous = finding.state
    finding.state, finding.reason = to, reason.strip()
    finding.decided_by, finding.decided_office = actor, office
    _save(finding, ["state", "reason", "decided_by", "decided_office"])
    audit.record(
        actor=actor,
        office=office,
        verb="finding.false_positive",
        target=finding,
        target_label=_label(finding),
        details={"from": previous, "reason": finding.reason},
    )
    _after_decision(finding, actor)
    return finding


@transaction.atomic
def confirm(*, actor: User, finding: Finding, expected_version: str | None = None) -> Finding:
    """An item to review is real: it becomes an open finding with a deadline."""
    office = policy.triage_office(actor, finding)
    if office is None:
        raise PermissionDenied(
            _("Only the unit's security officer or the CISO's office confirms a finding.")
        )
    finding = _locked(finding, expected_version)
    finding.state, finding.opened_at = _move(finding, "confirm"), timezone.now()
    finding.decided_by, finding.decided_office = actor, office
    systems, vulnerabilities = _facts([finding.system_id], [finding.vulnerability_id])
    _rated(
        finding, vulnerabilities[finding.vulnerability_id], systems[finding.system_id], deadlines()
    )
    _save(
        finding,
        ["state", "opened_at", "decided_by", "decided_office", "severity", "priority", "due_on"],
    )
    audit.record(
        actor=actor,
        office=office,
        verb="finding.confirmed",
        target=finding,
        target_label=_label(finding),
        details={"priority": finding.priority, "due_on": str(finding.due_on)},
    )
    remediation.follow(opened=[finding.pk], closed=[], actor=actor)
    return finding


@transaction.atomic
def accept_risk(
    *,
    actor: User,
    finding: Finding,
    until: dt.date,
    reason: str,
    expected_version: str | None = None,
) -> Finding:
    """The CISO accepts the risk of an open finding until a date; it reopens when that passes."""
    if not policy.can_accept_risk(actor):
        raise PermissionDenied(_("Only the CISO accepts a vulnerability's risk."))
    office = policy.ciso_office(actor) or ""
    finding = _locked(finding, expected_version)
    to = _move(finding, "accept")
    errors = {}
    if until <= timezone.localdate():
        errors["until"] = _("The acceptance must end after today.")
    if not reason.strip():
        errors["reason"] = _("Say why the risk is accepted.")
    if errors:
        raise ValidationError(errors)
    finding.state, finding.accepted_until, finding.reason = to, until, reason.strip()
    finding.decided_by, finding.decided_office = actor, office
    _save(finding, ["state", "accepted_until", "reason", "decided_by", "decided_office"])
    audit.record(
        actor=actor,
        office=office,
        verb="finding.accepted",
        target=finding,
        target_label=_label(finding),
        details={"until": until.isoformat(), "reason": finding.reason},
    )
    _after_decision(finding, actor)
    return finding


@transaction.atomic
def reopen_expired_acceptances(*, today: dt.date | None = None) -> int:
    """Acceptances whose date has passed: the findings open again with a new deadline
    (idempotent: an acceptance reopens once)."""
    today = today or timezone.localdate()
    expired = list(
        Finding.objects.select_for_update()
        .filter(state=F.ACCEPTED, accepted_until__lt=today)
        .order_by("pk")
    )
    if not expired:
        return 0
    now = timezone.now()
    systems, vulnerabilities = _facts(
        {f.system_id for f in expired}, {f.vulnerability_id for f in expired}
    )
    days = deadlines()
    for finding in expired:
        finding.state, finding.opened_at = F.OPEN, now
        finding.reopened += 1
        finding.version_number += 1
        finding.updated_at = now
        _rated(finding, vulnerabilities[finding.vulnerability_id], systems[finding.system_id], days)
    Finding.objects.bulk_update(
        expired,
        [
            "state",
            "opened_at",
            "reopened",
            "version_number",
            "updated_at",
            "severity",
            "priority",
            "due_on",
        ],
    )
    for finding in expired:
        audit.record(
            actor=None,
            verb="finding.acceptance_expired",
            target=finding,
            target_label=f"{vulnerabilities[finding.vulnerability_id]['key']} {finding.package}",
            details={"until": str(finding.accepted_until)},
        )
    remediation.follow(opened=[f.pk for f in expired], closed=[], actor=None)
    return len(expired)


def _label(finding: Finding) -> str:
    return f"{finding.vulnerability.key} {finding.package} on {finding.system.code}"


def _after_decision(finding: Finding, actor: User) -> None:
    remediation.follow(opened=[], closed=[finding.pk], actor=actor)
