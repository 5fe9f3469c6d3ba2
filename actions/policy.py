"""Who may see, create, progress, verify, return, cancel, re-plan and assign actions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts import policy as accounts_policy
from accounts.models import BusinessUnit, Domain, OfficeCode, Role
from actions.models import Action, Directive

# The office that owns a domain verifies its actions (docs/architecture.md, Authority); the
# chair always may.
DOMAIN_OFFICE = {Domain.SECURITY: OfficeCode.CISO, Domain.QUALITY: OfficeCode.CQO}


def visible_actions(user: Any) -> QuerySet[Action]:
    """Everything for oversight; otherwise the actions granted to the person's units."""
    if not getattr(user, "is_authenticated", False):
        return Action.objects.none()
    return accounts_policy.visible(user, Action)


def owning_office(user: Any, domain: str) -> str | None:
    """The office under which the user may issue, verify or re-plan work in a domain."""
    office = DOMAIN_OFFICE.get(Domain(domain))
    codes = (office, OfficeCode.CEO) if office else (OfficeCode.CEO,)
    return accounts_policy.acting_office(user, *codes)


def can_create_action(
    user: Any, unit: BusinessUnit, domain: str, decision: Any = None, project: Any = None
) -> bool:
    """The domain's office or the chair for any unit; a unit's own members for their unit; a
    committee decision to create actions for any unit; a quality reviewer, the findings of a
    review for the reviewed project's unit (quality.policy.can_review decides the review)."""
    if decision is not None:
        return accounts_policy.decision_authorizes(decision, "create_actions")
    if not getattr(user, "is_authenticated", False):
        return False
    if owning_office(user, domain) is not None or accounts_policy.belongs_to(user, unit):
        return True
    return bool(
        project is not None
        and domain == Domain.QUALITY
        and project.unit_id == unit.pk
        and accounts_policy.has_role(user, Role.QUALITY_REVIEWER)
    )


def can_progress(user: Any, action: Action) -> bool:
    """Members of the owning unit (the unit's group holds the grant) start, update and submit."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        # Rank is not membership: an administrator runs the site, not the unit's work, and
        # has_perm would say yes to a superuser for every object.
        return accounts_policy.belongs_to(user, action.unit)
    return accounts_policy.holds_grant(user, action)


def can_verify(user: Any, action: Action) -> bool:
    """The office owning the domain, or the chair, and never the person who submitted it."""
    if owning_office(user, action.domain) is None:
        return False
    return action.submitted_by_id != user.pk


def verifying_domains(user: Any) -> list[str]:
    """The domains whose submitted actions wait on this person's office: the chair's, all."""
    return [domain for domain in Domain.values if owning_office(user, domain) is not None]


def can_replan(user: Any, action: Action) -> bool:
    """Owner, due date, domain and origin are the issuing office's (or the chair's) to change."""
    return owning_office(user, action.domain) is not None


def can_assign(user: Any, action: Action) -> bool:
    """The head of the owning unit hands the unit's work to its people. Not the issuing office:
    it names an owner while re-planning, with a reason (can_replan); nor an on-site security
    officer, whose word is on findings, not on who in the unit does what."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return action.unit.head_id == user.pk


def can_see_workload(user: Any, unit: BusinessUnit) -> bool:
    """A unit's head, and oversight, who read every unit's actions anyway."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return unit.head_id == user.pk or accounts_policy.reads_everything(user)


def can_cancel(user: Any, action: Action) -> bool:
    """Cancelling is the issuing side's: the office owning the domain, or the chair."""
    return owning_office(user, action.domain) is not None


def can_issue_directive(user: Any, domain: str) -> bool:
    """Security directives are the CISO's, quality directives the CQO's; the chair issues any."""
    return owning_office(user, domain) is not None


def can_withdraw_directive(user: Any, directive: Directive) -> bool:
    """The office owning the directive's domain (the one that issues it), or the chair."""
    return owning_office(user, directive.domain) is not None


def visible_directives(user: Any) -> QuerySet[Directive]:
    """Oversight reads every directive; a unit reads those that tasked it."""
    if not getattr(user, "is_authenticated", False):
        return Directive.objects.none()
    if accounts_policy.reads_everything(user):
        return Directive.objects.all()
    return Directive.objects.filter(actions__in=visible_actions(user)).distinct()
