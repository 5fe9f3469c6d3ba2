"""Independent reviews and the release gate, and the actions their findings and conditions
become."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Domain, User
from actions import services as actions_services
from actions.models import Action
from audit import services as audit
from config import dates
from quality import evm, policy
from quality.checklists import ANSWERS, checklist_for
from quality.models import Phase, Project, Rag, ReleaseDecision, Review
from quality.services.projects import Work, locked, require_review


def _create_work(*, actor: User, project: Project, work: Sequence[Work], why: str) -> list[Action]:
    return [
        actions_services.create_action(
            actor=actor,
            unit=project.unit,
            title=item.title.strip(),
            description=(item.description.strip() + "\n\n" + why).strip(),
            due_on=item.due_on,
            domain=Domain.QUALITY,
            system=project.system,
            origin_project=project,
        )
        for item in work
    ]


MAX_WORK = 20  # findings or conditions at once: more is a plan, not a list


def _check_work(work: Sequence[Work], field: str) -> None:
    if len(work) > MAX_WORK:
        raise ValidationError({field: _("At most %(n)s at once.") % {"n": MAX_WORK}})
    today = timezone.localdate()
    errors = []
    for index, item in enumerate(work, start=1):
        if not item.title.strip():
            errors.append(_("Item %(n)s has no title.") % {"n": index})
        elif item.due_on < today:
            errors.append(_("Item %(n)s is due in the past.") % {"n": index})
        elif not dates.in_window(item.due_on):
            errors.append(
                _("Item %(n)s is due after %(latest)s.")
                % {"n": index, "latest": dates.LATEST.isoformat()}
            )
    if errors:
        raise ValidationError({field: errors})


@transaction.atomic
def record_review(
    *,
    actor: User,
    project: Project,
    checklist: Mapping[str, str],
    verdict: str,
    summary: str,
    findings: Sequence[Work] = (),
) -> Review:
    """A quality reviewer from another unit reviews the project in its current phase: the
    planning-stage review at planning, a plan-conformance check later. Every checklist item is
    answered; an item answered "no" is a finding, so such a review cannot simply pass; each
    finding becomes an action for the project's unit, verified by the CQO."""
    if not policy.is_quality_reviewer(actor):
        raise PermissionDenied(_("Only a quality reviewer (Quality HQ) may review a project."))
    if not policy.can_review(actor, project):
        raise PermissionDenied(
            _("A review must be independent: a reviewer from %(unit)s may not review its project.")
            % {"unit": project.unit.code}
        )
    project = locked(project)
    if project.phase == Phase.RELEASE:
        raise ValidationError({"phase": _("A released project has no phase left to review.")})
    items = checklist_for(project.phase)
    errors: dict[str, Any] = {}
    missing = [key for key, _label in items if key not in checklist]
    extra = sorted(set(checklist) - {key for key, _label in items})
    wrong = [key for key, answer in checklist.items() if answer not in ANSWERS]
    if missing:
        errors["checklist"] = _("Answer every item: %(items)s.") % {"items": ", ".join(missing)}
    elif extra:
        errors["checklist"] = _("Not items of this checklist: %(items)s.") % {
            "items": ", ".join(extra)
        }
    elif wrong:
        errors["checklist"] = _("Answer yes, no or n/a: %(items)s.") % {"items": ", ".join(wrong)}
    if verdict not in Review.Verdict.values:
        errors["verdict"] = _("Choose passed, passed with findings or failed.")
    if not summary.strip():
        errors["summary"] = _("Summarise what was reviewed and found.")
    if errors:
        raise ValidationError(errors)
    if verdict == Review.Verdict.PASSED and "no" in checklist.values():
        raise ValidationError(
            {
                "verdict": _(
                    "An item answered no is a finding: pass with findings, or fail the review."
                )
            }
        )
    if verdict == Review.Verdict.PASSED and findings:
        raise ValidationError({"verdict": _("A review with findings passes with findings.")})
    if verdict == Review.Verdict.PASSED_WITH_FINDINGS and not findings:
        raise ValidationError({"findings": _("Record the findings the project must act on.")})
    _check_work(findings, "findings")
    review = Review.objects.create(
        project=project,
        phase=project.phase,
        reviewer=actor,
        checklist={key: checklist[key] for key, _label in items},
        verdict=verdict,
        summary=summary.strip(),
        recorded_at=timezone.now(),
    )
    created = _create_work(
        actor=actor,
        project=project,
        work=findings,
        why=_("Finding of the %(phase)s review of %(project)s.")
        % {"phase": project.get_phase_display().lower(), "project": project.reference},
    )
    review.findings.add(*created)
    audit.record(
        actor=actor,
        verb="project.reviewed",
        target=project,
        details={
            "review": review.pk,
            "phase": review.phase,
            "verdict": verdict,
            "findings": [a.reference for a in created],
        },
    )
    return review


# A report comes once a month, so at a release the month before is the latest that can be in.
FRESH_MONTHS = 1


def release_caution(project: Project) -> str | None:
    """Why releasing the project needs an override reason, or None: it is rated red, it has no
    report or no rating, or its latest report is older than last month's. A gate that asks
    for a reason only when the figures are bad would wave through a project that stopped
    reporting them."""
    if project.rag == Rag.RED:
        return _("The project is rated red: record why it is released all the same.")
    latest = project.reports.order_by("-period").values_list("period", flat=True).first()
    if latest is None:
        return _("The project has no quality report: record why it is released without one.")
    if project.rag == Rag.UNRATED:
        return _(
            "The project's latest report rates nothing: record why it is released without a rating."
        )
    if evm.months_between(latest, evm.month_of(timezone.localdate())) > FRESH_MONTHS:
        return _(
            "The latest quality report is for %(period)s: record why the project is released "
            "on figures that old."
        ) % {"period": latest.strftime("%Y-%m")}
    return None


@transaction.atomic
def decide_release(
    *,
    actor: User,
    project: Project,
    outcome: str,
    reason: str,
    override_reason: str = "",
    conditions: Sequence[Work] = (),
) -> ReleaseDecision:
    """The release gate, the CQO's (or the chair's): approve, hold, or approve with
    conditions, which become actions for the unit. A project rated red, or not rated on
    last month's figures, is released only with a recorded override reason (release_caution);
    approving releases the project."""
    office = policy.gate_office(actor)
    if office is None:
        raise PermissionDenied(_("Only the CQO (or the chair) decides a release."))
    project = locked(project)
    errors: dict[str, Any] = {}
    if outcome not in ReleaseDecision.Outcome.values:
        errors["outcome"] = _("Choose approved, held or approved with conditions.")
    if not reason.strip():
        errors["reason"] = _("Say why.")
    if errors:
        raise ValidationError(errors)
    if project.phase != Phase.TEST:
        raise ValidationError(
            {
                "phase": _(
                    "Only a project in test comes to the release gate; this one is in %(phase)s."
                )
                % {"phase": project.get_phase_display().lower()}
            }
        )
    releases = outcome != ReleaseDecision.Outcome.HELD
    caution = release_caution(project) if releases else None
    if caution is not None and not override_reason.strip():
        raise ValidationError({"override_reason": caution})
    if outcome == ReleaseDecision.Outcome.APPROVED_WITH_CONDITIONS and not conditions:
        raise ValidationError({"conditions": _("Give the conditions of the release.")})
    if outcome != ReleaseDecision.Outcome.APPROVED_WITH_CONDITIONS and conditions:
        raise ValidationError(
            {"conditions": _("Conditions come only with an approval with conditions.")}
        )
    _check_work(conditions, "conditions")
    if releases:
        require_review(project)
    decision = ReleaseDecision.objects.create(
        project=project,
        outcome=outcome,
        reason=reason.strip(),
        override_reason=override_reason.strip() if releases else "",
        rag_at_decision=project.rag,
        decided_by=actor,
        decided_office=office,
        decided_at=timezone.now(),
    )
    created = _create_work(
        actor=actor,
        project=project,
        work=conditions,
        why=_("Condition of the release of %(project)s.") % {"project": project.reference},
    )
    decision.conditions.add(*created)
    if releases:
        project.phase = Phase.RELEASE
        project.save(update_fields=["phase", "updated_at"])
    audit.record(
        actor=actor,
        office=office,
        verb="project.release_decided",
        target=project,
        details={
            "decision": decision.pk,
            "outcome": outcome,
            "rag": decision.rag_at_decision,
            "override_reason": decision.override_reason,
            "conditions": [a.reference for a in created],
        },
    )
    return decision
