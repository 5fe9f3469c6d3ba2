"""Decisions: the chair's (recorded by the chair or the secretariat), refused without quorum,
and acted on through the other apps' services: actions created, suspensions ratified or
overturned, risks above appetite accepted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import BusinessUnit, Domain, User
from actions import services as actions_services
from audit import services as audit
from cases import services as cases_services
from committee import policy
from committee.models import AgendaItem, Decision, Meeting
from committee.quorum import quorum_of
from committee.services.meetings import (
    IN_SESSION,
    locked,
    refuse_before_start,
    refuse_if_locked,
)
from config import dates
from config.errors import Conflict
from systems import services as systems_services

E = Decision.Effect
ACTION_FIELDS = {"unit", "title", "due_on", "domain", "description", "priority"}


def _action_specs(actions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate the actions a decision creates before anything is written: a 400 names them all."""
    if not actions:
        raise ValidationError({"actions": _("Name at least one action: unit, title and due date.")})
    codes = {str(spec.get("unit", "")) for spec in actions}
    units = {u.code: u for u in BusinessUnit.objects.filter(code__in=codes)}
    errors: dict[str, str] = {}
    specs = []
    for index, spec in enumerate(actions):
        unknown = set(spec) - ACTION_FIELDS
        if unknown:
            errors[f"actions[{index}]"] = _("Unknown fields: %(fields)s.") % {
                "fields": ", ".join(sorted(unknown))
            }
            continue
        unit = units.get(str(spec.get("unit", "")))
        if unit is None:
            errors[f"actions[{index}].unit"] = _("No business unit %(unit)s.") % {
                "unit": repr(spec.get("unit"))
            }
            continue
        if not str(spec.get("title", "")).strip():
            errors[f"actions[{index}].title"] = _("Give the action a title.")
            continue
        due_on = spec.get("due_on")
        if isinstance(due_on, str):
            try:
                due_on = dt.date.fromisoformat(due_on)
            except ValueError:
                due_on = None
        if not isinstance(due_on, dt.date):
            errors[f"actions[{index}].due_on"] = _("Give a due date (YYYY-MM-DD).")
            continue
        try:
            dates.require_due("due_on", due_on, passed=_("The due date has already passed."))
        except ValidationError as exc:
            errors[f"actions[{index}].due_on"] = exc.messages[0]
            continue
        domain = spec.get("domain", Domain.SECURITY)
        if domain not in Domain.values:
            errors[f"actions[{index}].domain"] = _("Choose one of %(choices)s.") % {
                "choices": ", ".join(Domain.values)
            }
            continue
        specs.append(
            {
                "unit": unit,
                "title": str(spec["title"]).strip(),
                "due_on": due_on,
                "domain": domain,
                "description": str(spec.get("description", "")),
                "priority": spec.get("priority", "normal"),
            }
        )
    if errors:
        raise ValidationError(errors)
    return specs


def _check_effect(effect: str, outcome: str, item: AgendaItem | None) -> None:
    if effect not in E.values:
        raise ValidationError(
            {"effect": _("Choose one of %(choices)s.") % {"choices": ", ".join(E.values)}}
        )
    if effect == E.NONE:
        return
    if outcome != Decision.Outcome.APPROVED:
        raise ValidationError({"effect": _("Only an approved decision acts on anything.")})
    if effect in {E.RATIFY_SUSPENSION, E.OVERTURN_SUSPENSION} and (
        item is None or item.suspension_id is None
    ):
        raise ValidationError({"effect": _("Ratify or overturn on a suspension's agenda item.")})
    if effect == E.ACCEPT_RISK and (item is None or item.risk_id is None):
        raise ValidationError({"effect": _("Accept a risk on that risk's agenda item.")})


@transaction.atomic
def record_decision(
    *,
    actor: User,
    meeting: Meeting,
    item: AgendaItem | None,
    outcome: str,
    text: str,
    effect: str = E.NONE,
    actions: Sequence[Mapping[str, Any]] = (),
    corrects: Decision | None = None,
) -> Decision:
    """Record what the committee decided on an item, and act on it in the same transaction."""
    meeting = locked(meeting)
    capacity = policy.decision_capacity(actor, meeting)
    if capacity is None:
        raise PermissionDenied(
            _("Decisions are the chair's; only the chair or the secretariat records them.")
        )
    refuse_if_locked(meeting)
    if meeting.status not in IN_SESSION:
        raise ValidationError(
            {
                "status": _("No decisions at a meeting that is %(status)s.")
                % {"status": meeting.get_status_display().lower()}
            }
        )
    refuse_before_start(
        meeting, "status", _("The meeting starts at %(start)s; decisions are recorded from then.")
    )
    if outcome not in Decision.Outcome.values:
        raise ValidationError(
            {
                "outcome": _("Choose one of %(choices)s.")
                % {"choices": ", ".join(Decision.Outcome.values)}
            }
        )
    if not text.strip():
        raise ValidationError({"text": _("Word the resolution.")})
    if item is not None and (item.meeting_id != meeting.pk or item.removed_at is not None):
        raise ValidationError({"item": _("That item is not on this meeting's agenda.")})
    if corrects is not None and (
        corrects.meeting.committee_id != meeting.committee_id
        or corrects.meeting.starts_at >= meeting.starts_at
    ):
        raise ValidationError(
            {"corrects": _("Correct a decision of an earlier meeting of this committee only.")}
        )
    if item is not None and Decision.objects.filter(item=item).exists():
        raise Conflict(
            _("This item already has its decision; correct it at a later meeting."),
            code="already_decided",
        )
    _check_effect(effect, outcome, item)
    specs = _action_specs(actions) if effect == E.CREATE_ACTIONS else []
    if effect != E.CREATE_ACTIONS and actions:
        raise ValidationError(
            {
                "actions": _(
                    "Actions are created only by a decision whose effect is to create actions."
                )
            }
        )
    quorum = quorum_of(meeting.committee, meeting.attendance.all())
    if not quorum.met:
        raise Conflict(
            _("The meeting is not quorate: %(explanation)s") % {"explanation": quorum.explain()},
            code="no_quorum",
        )
    office = meeting.committee.chair_office.code
    decision = Decision(
        reference=audit.next_reference("DEC"),
        meeting=meeting,
        item=item,
        outcome=outcome,
        effect=effect,
        text=text.strip(),
        chair=meeting.chair or actor,
        recorded_by=actor,
        recorded_capacity=capacity,
        recorded_at=timezone.now(),
        corrects=corrects,
    )
    decision.full_clean(validate_constraints=False)  # one per item: checked above, kept by the DB
    decision.save()
    # The effects are the chair's acts under the chair's office, whoever recorded them.
    chair = decision.chair
    created = [
        actions_services.create_action(
            actor=chair, origin_decision=decision, decided_office=office, **spec
        )
        for spec in specs
    ]
    if item is not None and effect in {E.RATIFY_SUSPENSION, E.OVERTURN_SUSPENSION}:
        assert item.suspension is not None
        systems_services.settle_ratification(
            actor=chair,
            order=item.suspension,
            ratify=effect == E.RATIFY_SUSPENSION,
            decision=decision,
            office=office,
        )
    if item is not None and effect == E.ACCEPT_RISK:
        assert item.risk is not None
        cases_services.accept_risk_by_committee(
            actor=chair, risk=item.risk, decision=decision, office=office
        )
    if item is not None and item.discussed_at is None:
        item.discussed_at = decision.recorded_at
        item.save(update_fields=["discussed_at"])
    audit.record(
        actor=actor,
        office=office if capacity == "chair" else "",
        verb="decision.recorded",
        target=decision,
        details={
            "meeting": meeting.pk,
            "item": getattr(item, "pk", None),
            "outcome": outcome,
            "effect": effect,
            "capacity": capacity,
            "chair": decision.chair_id,
            # The counts, not a sentence: the trail says it in each reader's language.
            "quorum": {"present": quorum.present, "voting": quorum.voting, "needed": quorum.needed},
            "actions": [a.reference for a in created],
            "corrects": getattr(corrects, "reference", None),
        },
    )
    return decision
