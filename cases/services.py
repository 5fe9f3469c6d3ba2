"""Every write to incidents and risks: one function per act, policy first, audited, in a transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import BusinessUnit, Domain, Office, OfficeCode, User
from accounts.services import grant_to_unit
from actions import policy as actions_policy
from actions import services as actions_services
from actions.models import Action, Directive
from audit import services as audit
from cases import policy
from cases.matrix import current_matrix
from cases.models import Incident, RecurrenceMeasure, Risk, RiskMatrixCell, TimelineEntry
from config import dates
from config.errors import Conflict
from config.lifecycle import next_status
from config.text import fit, one_line
from config.versioning import check_version
from systems import criteria as system_criteria
from systems import policy as systems_policy
from systems.models import System

S = Incident.Status
# The incident lifecycle, declared once (docs/architecture.md, Lifecycles): each act moves an
# incident from the states it names to one state. reported → triaged → investigating →
# contained → resolved → closed; a resolved or closed incident can be reopened.
INCIDENT_FLOW: dict[str, dict[str, str]] = {
    "triage": {S.REPORTED: S.TRIAGED},
    "investigate": {S.TRIAGED: S.INVESTIGATING},
    "contain": {S.INVESTIGATING: S.CONTAINED},
    "resolve": {S.CONTAINED: S.RESOLVED},
    "close": {S.RESOLVED: S.CLOSED},
    "reopen": {S.RESOLVED: S.INVESTIGATING, S.CLOSED: S.INVESTIGATING},
}
R = Risk.Status
# identified → assessed → treating → monitored → retired; a monitored risk may be treated again.
RISK_FLOW: dict[str, dict[str, str]] = {
    "assess": {R.IDENTIFIED: R.ASSESSED},
    "treat": {R.ASSESSED: R.TREATING, R.MONITORED: R.TREATING},
    "monitor": {R.TREATING: R.MONITORED},
    "retire": {R.MONITORED: R.RETIRED},
}
INCIDENT_EDITABLE = ("title", "description", "category", "personal_data_involved", "root_cause")


def _not_in_future(field: str, moment: datetime, now: datetime) -> datetime:
    """Something that already happened: not in the future, and not before the window the
    product keeps. A client's clock a little ahead of ours means our now."""
    dates.require_past(field, moment, now=now)
    return min(moment, now)


def _visible_systems(actor: User, systems: Iterable[System]) -> list[System]:
    systems = list(systems)
    visible = set(
        systems_policy.visible_systems(actor)
        .filter(pk__in=[s.pk for s in systems])
        .values_list("pk", flat=True)
    )
    hidden = [s.code for s in systems if s.pk not in visible]
    if hidden:
        raise ValidationError(
            {
                "affected_systems": _("Unknown systems: %(systems)s.")
                % {"systems": ", ".join(hidden)}
            }
        )
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
        raise PermissionDenied(
            _("Only members of %(unit)s may report its incidents.") % {"unit": unit.code}
        )
    now = timezone.now()
    detected_at = _not_in_future("detected_at", detected_at, now)
    if occurred_at is not None:
        occurred_at = _not_in_future("occurred_at", occurred_at, now)
    if occurred_at is not None and occurred_at > detected_at:
        raise ValidationError({"occurred_at": _("Cannot be after the incident was detected.")})
    systems = _visible_systems(actor, affected_systems)
    incident = Incident(
        reference=audit.next_reference("INC"),
        title=one_line(title),
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
    grant_to_unit(obj=incident, unit=unit)
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
def transition_incident(*, actor: User, incident: Incident, act: str, note: str = "") -> Incident:
    """Move an incident along its lifecycle (triage, investigate, ..., close, reopen); closing
    needs a root cause, a measure, and every action it gave rise to verified (or cancelled)."""
    if not policy.can_change_incident(actor, incident):
        raise PermissionDenied(
            _("Only the owning unit, the domain's CxO or the chair may do this.")
        )
    incident = _locked(incident)
    to = next_status(incident.status, act, INCIDENT_FLOW, "an incident")
    if to == S.CLOSED:
        problems = {}
        if not incident.root_cause.strip():
            problems["root_cause"] = _("Record the root cause before closing.")
        if not incident.measures.exists():
            problems["measures"] = _(
                "Record at least one recurrence-prevention measure before closing."
            )
        unfinished = (
            Action.objects.filter(
                Q(origin_incident=incident) | Q(origin_measure__incident=incident)
            )
            .open()
            .count()
        )
        if unfinished:
            problems["actions"] = _("%(count)s of its actions are not verified yet.") % {
                "count": unfinished
            }
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
        verb=f"incident.{act}d" if act.endswith("e") else f"incident.{act}ed",
        target=incident,
        details={"from": previous, "to": to, "note": note.strip()},
    )
    return incident


@transaction.atomic
def change_severity(*, actor: User, incident: Incident, severity: str, reason: str) -> Incident:
    """Raise or lower an incident's severity, with the reason on its timeline."""
    if not policy.can_change_incident(actor, incident):
        raise PermissionDenied(
            _("Only the owning unit, the domain's CxO or the chair may do this.")
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the severity changes.")})
    incident = _locked(incident)
    if incident.status == S.CLOSED:
        raise ValidationError({"severity": _("Reopen the incident before changing it.")})
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
        raise PermissionDenied(
            _("Only the owning unit, the domain's CxO or the chair may do this.")
        )
    unknown = set(changes) - set(INCIDENT_EDITABLE)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in unknown})
    if "title" in changes:
        changes["title"] = one_line(str(changes["title"]))
    incident = _locked(incident)
    check_version(incident, expected_version)
    if incident.status == S.CLOSED:
        raise ValidationError(
            {"status": _("A closed incident is read-only; reopen it to change it.")}
        )
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
        raise PermissionDenied(
            _("Only the owning unit, the domain's CxO or the chair may do this.")
        )
    if not text.strip():
        raise ValidationError({"text": _("Write what happened.")})
    now = timezone.now()
    at = now if at is None else _not_in_future("at", at, now)
    entry = TimelineEntry.objects.create(incident=incident, at=at, author=actor, text=text.strip())
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
        raise PermissionDenied(
            _("Only the owning unit, the domain's CxO or the chair may do this.")
        )
    if not description.strip():
        raise ValidationError({"description": _("Describe the measure.")})
    if incident.status == S.CLOSED:
        raise ValidationError(
            {"status": _("A closed incident is read-only; reopen it to add measures.")}
        )
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
        k: _("Must be a whole number from 1 to 5.")
        for k, v in scores.items()
        if v not in range(1, 6)
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
        raise PermissionDenied(
            _("Only members of %(unit)s may register its risks.") % {"unit": unit.code}
        )
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
        title=one_line(title),
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
    grant_to_unit(obj=risk, unit=unit)
    if not policy.can_own_risk(owner, risk):
        # Refused inside the transaction: the risk, its grant and its reference go with it.
        raise ValidationError(
            {
                "owner": _("%(person)s may not see %(unit)s's risks, so cannot own this one.")
                % {"person": owner.get_username(), "unit": unit.code}
            }
        )
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


RISK_EDITABLE = (
    "title",
    "description",
    "treatment",
    "likelihood",
    "impact",
    "residual_likelihood",
    "residual_impact",
)
SCORE_FIELDS = ("likelihood", "impact", "residual_likelihood", "residual_impact")


@transaction.atomic
def reassess_risk(
    *, actor: User, risk: Risk, expected_version: str | None = None, **changes: Any
) -> Risk:
    """Re-score or re-describe a risk; levels, appetite and the review date follow a new score.
    Accepting a risk above appetite, or scoring it down, is the owning CxO's call."""
    if not policy.can_change_risk(actor, risk):
        raise PermissionDenied(
            _("Only the owning unit, the domain's CxO or the chair may do this.")
        )
    unknown = set(changes) - set(RISK_EDITABLE)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in unknown})
    _check_scale(**{k: v for k, v in changes.items() if k in SCORE_FIELDS})
    if "title" in changes:
        changes["title"] = one_line(str(changes["title"]))
    risk = Risk.objects.select_for_update().get(pk=risk.pk)
    check_version(risk, expected_version)
    if risk.status == R.RETIRED:
        raise ValidationError({"status": _("A retired risk is read-only.")})
    changed = {f: v for f, v in changes.items() if getattr(risk, f) != v}
    if not changed:
        return risk
    lowers = any(
        changed.get(f, getattr(risk, f)) < getattr(risk, f)
        for f in ("residual_likelihood", "residual_impact")
    )
    accepts = changed.get("treatment") == Risk.Treatment.ACCEPT
    if (
        risk.above_appetite
        and (lowers or accepts)
        and policy.domain_office(actor, risk.domain) is None
    ):
        raise PermissionDenied(
            _(
                "This risk is above appetite: only its domain's CxO or the chair may accept it or "
                "score it down."
            )
        )
    before = {f: getattr(risk, f) for f in changed}
    for field, value in changed.items():
        setattr(risk, field, value)
    fields = [*changed, "updated_at"]
    if set(changed) & set(SCORE_FIELDS):
        _score(risk)
        fields += [
            "inherent_score",
            "residual_score",
            "inherent_level",
            "residual_level",
            "above_appetite",
            "next_review_on",
        ]
    risk.full_clean()
    risk.save(update_fields=fields)
    audit.record(
        actor=actor,
        office=policy.domain_office(actor, risk.domain),
        verb="risk.reassessed",
        target=risk,
        details={
            **{f: {"from": before[f], "to": getattr(risk, f)} for f in changed},
            "above_appetite": risk.above_appetite,
        },
    )
    return risk


@transaction.atomic
def transition_risk(*, actor: User, risk: Risk, act: str) -> Risk:
    """Move a risk along identified → assessed → treating → monitored → retired. Retiring a risk
    above appetite is the owning CxO's call (docs/architecture.md, Authority), not the unit's."""
    if not policy.can_change_risk(actor, risk):
        raise PermissionDenied(
            _("Only the owning unit, the domain's CxO or the chair may do this.")
        )
    risk = Risk.objects.select_for_update().get(pk=risk.pk)
    to = next_status(risk.status, act, RISK_FLOW, "a risk")
    if to == R.RETIRED and risk.above_appetite and policy.domain_office(actor, risk.domain) is None:
        raise PermissionDenied(
            _("A risk above appetite is retired only by its domain's CxO or the chair.")
        )
    previous = risk.status
    risk.status = to
    risk.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        office=policy.domain_office(actor, risk.domain),
        verb=f"risk.{to}",  # assessed, treating, monitored, retired
        target=risk,
        details={"from": previous, "to": to},
    )
    return risk


@transaction.atomic
def accept_risk_by_committee(*, actor: User, risk: Risk, decision: Any, office: str) -> Risk:
    """The committee accepts a risk above appetite, recorded against the CxO owning its domain
    (CISO for security, CQO for quality, the chair otherwise). The approved decision is the
    authority; `actor` is the chair whose decision it is."""
    if not policy.can_accept_by_committee(decision):
        raise PermissionDenied(_("Only a committee decision accepts a risk above appetite."))
    risk = Risk.objects.select_for_update().get(pk=risk.pk)
    if not risk.above_appetite:
        raise ValidationError({"risk": _("This risk is within appetite; its unit decides on it.")})
    if risk.status == R.RETIRED:
        raise ValidationError({"risk": _("A retired risk is read-only.")})
    if risk.acceptance_decision_id is not None:
        raise Conflict(_("The committee has already accepted this risk."), code="already_accepted")
    owning = policy.DOMAIN_OFFICE.get(Domain(risk.domain), OfficeCode.CEO)
    holder = Office.objects.filter(code=owning).values_list("holder", flat=True).first()
    before = risk.treatment
    risk.treatment = Risk.Treatment.ACCEPT
    risk.acceptance_decision = decision
    risk.accepted_office = owning
    risk.accepted_by_id = holder
    risk.accepted_at = timezone.now()
    risk.save(
        update_fields=[
            "treatment",
            "acceptance_decision",
            "accepted_office",
            "accepted_by",
            "accepted_at",
            "updated_at",
        ]
    )
    audit.record(
        actor=actor,
        office=office,
        verb="risk.accepted",
        target=risk,
        details={
            "decision": decision.reference,
            "owning_office": owning,
            "owning_cxo": holder,
            "treatment": {"from": before, "to": risk.treatment},
            "residual_score": risk.residual_score,
        },
    )
    return risk


@transaction.atomic
def set_matrix_cell(
    *, actor: User, cell: RiskMatrixCell, level: str, review_days: int
) -> RiskMatrixCell:
    """Replace one cell of the risk matrix (an administrator's act, audited). Existing risks take
    the new level at their next reassessment."""
    if not actor.is_superuser:
        raise PermissionDenied(_("Only an administrator changes the risk matrix."))
    cell = RiskMatrixCell.objects.select_for_update().get(pk=cell.pk)
    before = (cell.level, cell.review_days)
    cell.level, cell.review_days = level, review_days
    cell.full_clean()
    cell.save(update_fields=["level", "review_days"])
    audit.record(
        actor=actor,
        verb="risk_matrix.changed",
        target=cell,
        details={"from": list(before), "to": [level, review_days]},
    )
    return cell


@transaction.atomic
def roll_out_measure(
    *, actor: User, measure: RecurrenceMeasure, deadline: dt.date, title: str = ""
) -> Any:
    """Horizontal roll-out: issue a directive over every system the measure's criteria match,
    in every unit, so the fix reaches each similar system and not just the one that failed."""
    if not actions_policy.can_issue_directive(actor, measure.incident.domain):
        raise PermissionDenied(
            _("Only the office owning this domain, or the chair, rolls a fix out.")
        )
    if not measure.criteria:
        raise ValidationError(
            {"criteria": _("This measure names no systems to reach; add criteria first.")}
        )
    if Directive.objects.filter(origin_measure=measure).exclude(status="withdrawn").exists():
        raise Conflict(_("This measure was already rolled out."), code="already_rolled_out")
    incident = measure.incident
    directive = actions_services.draft_directive(
        actor=actor,
        title=one_line(title)
        or fit(Directive, "title", f"{incident.reference}: {measure.description}"),
        body=f"Recurrence prevention for {incident.reference} ({incident.title}):\n\n{measure.description}",
        deadline=deadline,
        domain=incident.domain,
        criteria=measure.criteria,
        origin_measure=measure,
    )
    directive = actions_services.issue_directive(actor=actor, directive=directive)
    audit.record(
        actor=actor,
        verb="incident.measure_rolled_out",
        target=incident,
        details={"measure": measure.pk, "directive": directive.reference},
    )
    return directive
