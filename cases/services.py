"""Every write to incidents and risks: one function per act, policy first, audited, in a transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import BusinessUnit, User
from accounts.services import sync_unit_group
from audit import services as audit
from cases import policy
from cases.matrix import current_matrix
from cases.models import Incident, RecurrenceMeasure, Risk, TimelineEntry
from config.versioning import check_version
from systems import criteria as system_criteria
from systems import policy as systems_policy
from systems.models import System

S = Incident.Status
# The incident lifecycle, declared once: reported → triaged → investigating → contained →
# resolved → closed, with reopening.
INCIDENT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.REPORTED: (S.TRIAGED,),
    S.TRIAGED: (S.INVESTIGATING,),
    S.INVESTIGATING: (S.CONTAINED, S.RESOLVED),
    S.CONTAINED: (S.RESOLVED,),
    S.RESOLVED: (S.CLOSED, S.INVESTIGATING),
    S.CLOSED: (S.INVESTIGATING,),
}
R = Risk.Status
RISK_TRANSITIONS: dict[str, tuple[str, ...]] = {
    R.IDENTIFIED: (R.ASSESSED, R.RETIRED),
    R.ASSESSED: (R.TREATING, R.MONITORED, R.RETIRED),
    R.TREATING: (R.MONITORED, R.RETIRED),
    R.MONITORED: (R.TREATING, R.RETIRED),
    R.RETIRED: (),
}
INCIDENT_EDITABLE = ("title", "description", "category", "personal_data_involved", "root_cause")
UNIT_PERMISSIONS = ("view", "change")


def _refuse_transition(current: str, target: str, table: Mapping[str, tuple[str, ...]]) -> None:
    allowed = table.get(current, ())
    if target not in allowed:
        names = ", ".join(allowed) or "none (this is a final state)"
        raise ValidationError(
            {"status": f"Cannot go from {current} to {target}. Allowed from {current}: {names}."}
        )


def _grant_to_unit(obj: Incident | Risk, unit: BusinessUnit) -> None:
    group = unit.group or sync_unit_group(unit=unit)
    model = obj._meta.model_name
    for perm in UNIT_PERMISSIONS:
        assign_perm(f"cases.{perm}_{model}", group, obj)


def _not_in_future(field: str, moment: datetime | None) -> None:
    if moment is not None and moment > timezone.now():
        raise ValidationError({field: "Cannot be in the future."})


def _visible_systems(actor: User, systems: Iterable[System]) -> list[System]:
    systems = list(systems)
    visible = set(
        systems_policy.visible_systems(actor)
        .filter(pk__in=[s.pk for s in systems])
        .values_list("pk", flat=True)
    )
    hidden = [s.code for s in systems if s.pk not in visible]
    if hidden:
        raise ValidationError({"affected_systems": f"Unknown systems: {', '.join(hidden)}."})
    return systems


# --- Incidents ------------------------------------------------------------------------------


@transaction.atomic
def report_incident(
    *,
    actor: User,
    unit: BusinessUnit,
    title: str,
    description: str,
    category: str,
    severity: str,
    detected_at: datetime,
    domain: str = "security",
    occurred_at: datetime | None = None,
    personal_data_involved: bool = False,
    affected_systems: Iterable[System] = (),
) -> Incident:
    """A business unit reports something that went wrong; the clock starts now."""
    if not policy.can_report_incident(actor, unit):
        raise PermissionDenied(f"Only members of {unit.code} may report its incidents.")
    now = timezone.now()
    _not_in_future("detected_at", detected_at)
    _not_in_future("occurred_at", occurred_at)
    if occurred_at is not None and occurred_at > detected_at:
        raise ValidationError({"occurred_at": "Cannot be after the incident was detected."})
    systems = _visible_systems(actor, affected_systems)
    incident = Incident(
        reference=audit.next_reference("INC"),
        title=title,
        description=description,
        category=category,
        severity=severity,
        domain=domain,
        unit=unit,
        reporter=actor,
        occurred_at=occurred_at,
        detected_at=detected_at,
        reported_at=now,
        personal_data_involved=personal_data_involved,
    )
    incident.full_clean()
    incident.save()
    incident.affected_systems.set(systems)
    _grant_to_unit(incident, unit)
    TimelineEntry.objects.create(
        incident=incident,
        at=now,
        author=actor,
        kind=TimelineEntry.Kind.STATUS,
        text="Reported.",
        to_value=incident.status,
    )
    audit.record(
        actor=actor,
        verb="incident.reported",
        target=incident,
        details={"unit": unit.code, "severity": severity, "category": category},
    )
    return incident


def _locked(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


@transaction.atomic
def transition_incident(*, actor: User, incident: Incident, to: str, note: str = "") -> Incident:
    """Move an incident along its lifecycle; closing needs a root cause and a measure."""
    if not policy.can_change_incident(actor, incident):
        raise PermissionDenied("Only the owning unit, the domain's CxO or the chair may do this.")
    incident = _locked(incident)
    _refuse_transition(incident.status, to, INCIDENT_TRANSITIONS)
    if to == S.CLOSED:
        problems = {}
        if not incident.root_cause.strip():
            problems["root_cause"] = "Record the root cause before closing."
        if not incident.measures.exists():
            problems["measures"] = (
                "Record at least one recurrence-prevention measure before closing."
            )
        if problems:
            raise ValidationError(problems)
    previous = incident.status
    now = timezone.now()
    incident.status = to
    incident.closed_at = now if to == S.CLOSED else None
    incident.save(update_fields=["status", "closed_at", "updated_at"])
    TimelineEntry.objects.create(
        incident=incident,
        at=now,
        author=actor,
        kind=TimelineEntry.Kind.STATUS,
        text=note.strip() or f"{previous} → {to}.",
        from_value=previous,
        to_value=to,
    )
    audit.record(
        actor=actor,
        office=policy.domain_office(actor, incident.domain),
        verb="incident.reopened" if previous == S.CLOSED else f"incident.{to}",
        target=incident,
        details={"from": previous, "to": to, "note": note.strip()},
    )
    return incident


@transaction.atomic
def change_severity(*, actor: User, incident: Incident, severity: str, reason: str) -> Incident:
    """Raise or lower an incident's severity, with the reason on its timeline."""
    if not policy.can_change_incident(actor, incident):
        raise PermissionDenied("Only the owning unit, the domain's CxO or the chair may do this.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the severity changes."})
    incident = _locked(incident)
    if incident.status == S.CLOSED:
        raise ValidationError({"severity": "Reopen the incident before changing it."})
    previous = incident.severity
    if previous == severity:
        return incident
    incident.severity = severity
    incident.full_clean()
    incident.save(update_fields=["severity", "updated_at"])
    TimelineEntry.objects.create(
        incident=incident,
        at=timezone.now(),
        author=actor,
        kind=TimelineEntry.Kind.SEVERITY,
        text=reason.strip(),
        from_value=previous,
        to_value=severity,
    )
    audit.record(
        actor=actor,
        verb="incident.severity_changed",
        target=incident,
        details={"from": previous, "to": severity, "reason": reason.strip()},
    )
    return incident


@transaction.atomic
def update_incident(
    *, actor: User, incident: Incident, expected_version: str | None = None, **changes: Any
) -> Incident:
    """Correct what an incident says (title, description, category, root cause, ...)."""
    if not policy.can_change_incident(actor, incident):
        raise PermissionDenied("Only the owning unit, the domain's CxO or the chair may do this.")
    unknown = set(changes) - set(INCIDENT_EDITABLE)
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in unknown})
    incident = _locked(incident)
    check_version(incident, expected_version)
    if incident.status == S.CLOSED:
        raise ValidationError({"status": "A closed incident is read-only; reopen it to change it."})
    before = {f: getattr(incident, f) for f in changes}
    for field, value in changes.items():
        setattr(incident, field, value)
    incident.full_clean()
    changed = [f for f in changes if before[f] != getattr(incident, f)]
    if changed:
        incident.save(update_fields=[*changed, "updated_at"])
        audit.record(
            actor=actor,
            verb="incident.changed",
            target=incident,
            details={f: {"from": before[f], "to": getattr(incident, f)} for f in changed},
        )
    return incident


@transaction.atomic
def add_timeline_entry(
    *, actor: User, incident: Incident, text: str, at: datetime | None = None
) -> TimelineEntry:
    """Someone adds what they know to the incident's story; never a moment in the future."""
    if not policy.can_change_incident(actor, incident):
        raise PermissionDenied("Only the owning unit, the domain's CxO or the chair may do this.")
    if not text.strip():
        raise ValidationError({"text": "Write what happened."})
    _not_in_future("at", at)
    entry = TimelineEntry.objects.create(
        incident=incident, at=at or timezone.now(), author=actor, text=text.strip()
    )
    audit.record(actor=actor, verb="incident.noted", target=incident, details={"entry": entry.pk})
    return entry


@transaction.atomic
def add_measure(
    *,
    actor: User,
    incident: Incident,
    description: str,
    criteria: Mapping[str, Any] | None = None,
) -> RecurrenceMeasure:
    """Record what will stop it happening again and which other systems it must reach."""
    if not policy.can_change_incident(actor, incident):
        raise PermissionDenied("Only the owning unit, the domain's CxO or the chair may do this.")
    if not description.strip():
        raise ValidationError({"description": "Describe the measure."})
    clean = system_criteria.validate(criteria) if criteria else {}
    measure = RecurrenceMeasure.objects.create(
        incident=incident, description=description.strip(), criteria=clean, created_by=actor
    )
    audit.record(
        actor=actor,
        verb="incident.measure_added",
        target=incident,
        details={"measure": measure.pk, "criteria": clean},
    )
    return measure


# --- Risks ----------------------------------------------------------------------------------


def _score(risk: Risk) -> None:
    """Scores, levels, appetite and next review follow from the matrix in force."""
    matrix = current_matrix()
    inherent = matrix[(risk.likelihood, risk.impact)]
    residual = matrix[(risk.residual_likelihood, risk.residual_impact)]
    risk.inherent_score = risk.likelihood * risk.impact
    risk.residual_score = risk.residual_likelihood * risk.residual_impact
    risk.inherent_level = inherent.level
    risk.residual_level = residual.level
    risk.above_appetite = risk.residual_score > settings.RISK_APPETITE_SCORE
    risk.next_review_on = timezone.localdate() + timedelta(days=residual.review_days)


def _check_scale(**scores: Any) -> None:
    bad = {
        k: "Must be a whole number from 1 to 5." for k, v in scores.items() if v not in range(1, 6)
    }
    if bad:
        raise ValidationError(bad)


@transaction.atomic
def register_risk(
    *,
    actor: User,
    unit: BusinessUnit,
    title: str,
    owner: User,
    likelihood: int,
    impact: int,
    residual_likelihood: int | None = None,
    residual_impact: int | None = None,
    description: str = "",
    domain: str = "security",
    treatment: str = Risk.Treatment.MITIGATE,
) -> Risk:
    """Put a risk on the register, scored before and after treatment."""
    if not policy.can_register_risk(actor, unit):
        raise PermissionDenied(f"Only members of {unit.code} may register its risks.")
    residual_likelihood = residual_likelihood or likelihood
    residual_impact = residual_impact or impact
    _check_scale(
        likelihood=likelihood,
        impact=impact,
        residual_likelihood=residual_likelihood,
        residual_impact=residual_impact,
    )
    risk = Risk(
        reference=audit.next_reference("RSK"),
        title=title,
        description=description,
        unit=unit,
        domain=domain,
        owner=owner,
        likelihood=likelihood,
        impact=impact,
        residual_likelihood=residual_likelihood,
        residual_impact=residual_impact,
        treatment=treatment,
    )
    _score(risk)
    risk.full_clean()
    risk.save()
    _grant_to_unit(risk, unit)
    audit.record(
        actor=actor,
        verb="risk.registered",
        target=risk,
        details={
            "unit": unit.code,
            "inherent": [likelihood, impact, risk.inherent_level],
            "residual": [residual_likelihood, residual_impact, risk.residual_level],
            "above_appetite": risk.above_appetite,
        },
    )
    return risk


@transaction.atomic
def reassess_risk(
    *, actor: User, risk: Risk, expected_version: str | None = None, **changes: Any
) -> Risk:
    """Re-score or re-describe a risk; levels, appetite and review date follow."""
    if not policy.can_change_risk(actor, risk):
        raise PermissionDenied("Only the owning unit, the domain's CxO or the chair may do this.")
    allowed = {
        "title",
        "description",
        "treatment",
        "likelihood",
        "impact",
        "residual_likelihood",
        "residual_impact",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in unknown})
    scores = {k: v for k, v in changes.items() if k.endswith(("likelihood", "impact"))}
    _check_scale(**scores)
    risk = Risk.objects.select_for_update().get(pk=risk.pk)
    check_version(risk, expected_version)
    if risk.status == R.RETIRED:
        raise ValidationError({"status": "A retired risk is read-only."})
    before = {f: getattr(risk, f) for f in changes}
    for field, value in changes.items():
        setattr(risk, field, value)
    _score(risk)
    risk.full_clean()
    risk.save()
    changed = {
        f: {"from": before[f], "to": getattr(risk, f)}
        for f in changes
        if before[f] != getattr(risk, f)
    }
    if changed:
        audit.record(
            actor=actor,
            verb="risk.reassessed",
            target=risk,
            details={**changed, "above_appetite": risk.above_appetite},
        )
    return risk


@transaction.atomic
def transition_risk(*, actor: User, risk: Risk, to: str) -> Risk:
    """Move a risk along identified → assessed → treating → monitored → retired."""
    if not policy.can_change_risk(actor, risk):
        raise PermissionDenied("Only the owning unit, the domain's CxO or the chair may do this.")
    risk = Risk.objects.select_for_update().get(pk=risk.pk)
    _refuse_transition(risk.status, to, RISK_TRANSITIONS)
    previous = risk.status
    risk.status = to
    risk.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        office=policy.domain_office(actor, risk.domain),
        verb=f"risk.{to}",
        target=risk,
        details={"from": previous, "to": to},
    )
    return risk
