"""Every write to offices, delegations, API tokens and a person's language, audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm
from knox.models import AuthToken

from accounts import policy
from accounts.models import BusinessUnit, Delegation, Membership, Office, User
from audit import services as audit
from config import dates
from config.client import client_address


@transaction.atomic
def delegate_office(
    *,
    actor: User,
    office: Office,
    delegate: User,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
) -> Delegation:
    """Name an acting delegate who holds the office's authority inside [starts_at, ends_at)."""
    if not policy.can_delegate(actor, office):
        raise PermissionDenied(
            _("Only the %(office)s's holder, the chair or an admin may delegate it.")
            % {"office": office.code}
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the office is delegated.")})
    dates.require_in_window("starts_at", starts_at)
    dates.require_in_window("ends_at", ends_at)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The window must end after it starts.")})
    if delegate.pk == office.holder_id:
        raise ValidationError({"delegate": _("The holder already holds the office.")})
    if delegate.pk == actor.pk:
        raise ValidationError({"delegate": _("Nobody may delegate an office to themselves.")})
    if not delegate.is_active:
        raise ValidationError({"delegate": _("A deactivated user cannot act for an office.")})
    delegation = Delegation(
        office=office,
        delegate=delegate,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
        created_by=actor,
    )
    delegation.full_clean()
    delegation.save()
    audit.record(
        actor=actor,
        office=policy.acting_office(actor, office.code, "CEO"),
        verb="office.delegated",
        target=delegation,
        details={
            "office": office.code,
            "delegate": delegate.get_username(),
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
            "reason": delegation.reason,
        },
    )
    return delegation


@transaction.atomic
def revoke_delegation(*, actor: User, delegation: Delegation, reason: str) -> Delegation:
    """End a delegation early; its history stays."""
    delegation = (
        Delegation.objects.select_for_update().select_related("office").get(pk=delegation.pk)
    )
    if not policy.can_delegate(actor, delegation.office):
        raise PermissionDenied(
            _("Only the office's holder, the chair or an admin may revoke a delegation.")
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the delegation ends early.")})
    if delegation.revoked_at is not None:
        raise ValidationError(_("This delegation was already revoked."))
    delegation.revoked_at = timezone.now()
    delegation.save(update_fields=["revoked_at"])
    audit.record(
        actor=actor,
        office=policy.acting_office(actor, delegation.office.code, "CEO"),
        verb="office.delegation_revoked",
        target=delegation,
        details={"office": delegation.office.code, "reason": reason.strip()},
    )
    return delegation


@transaction.atomic
def assign_office_holder(*, actor: User | None, office: Office, holder: User | None) -> Office:
    """Record who holds an office from now on. `actor=None` is an operator at the console."""
    if actor is not None and not policy.can_assign_office(actor, office):
        raise PermissionDenied(_("Only an administrator records who holds an office."))
    if holder is not None and not holder.is_active:
        raise ValidationError({"holder": _("A deactivated user cannot hold an office.")})
    office = Office.objects.select_for_update().get(pk=office.pk)
    previous = office.holder.get_username() if office.holder else None
    office.holder = holder
    office.save(update_fields=["holder", "updated_at"])
    audit.record(
        actor=actor,
        verb="office.holder_changed",
        target=office,
        details={"from": previous, "to": holder.get_username() if holder else None},
    )
    return office


DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 365


@transaction.atomic
def issue_api_token(
    *, actor: User | None, user: User, days: int = DEFAULT_TOKEN_DAYS
) -> tuple[AuthToken, str]:
    """A hashed, expiring, revocable token for an integration; the secret is shown once.
    Every token expires: a token skips MFA and session time-outs, so it must not live forever."""
    if actor is not None and not (actor.is_superuser or actor.pk == user.pk):
        raise PermissionDenied(_("You may issue tokens only for yourself."))
    if not user.is_active:
        raise ValidationError({"user": _("A deactivated user cannot hold API tokens.")})
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationError(
            {
                "days": _("A token lives between 1 and %(most)d days; issue a new one after.")
                % {"most": MAX_TOKEN_DAYS}
            }
        )
    expiry = timedelta(days=days)
    # The person's expired tokens go now; a request no longer looks for them (authentication.py).
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    instance, token = AuthToken.objects.create(user=user, expiry=expiry)
    audit.record(
        actor=actor,
        verb="api_token.issued",
        target=user,
        details={
            "token_key": instance.token_key,
            "expires": str(instance.expiry) if instance.expiry else None,
        },
    )
    return instance, token


@transaction.atomic
def revoke_api_token(*, actor: User | None, token: AuthToken) -> None:
    """Revoke a token at once: the integration holding it is refused from its next call. The
    token row goes (knox keeps only a digest, nothing a case or the trail points at); the audit
    event keeps which token it was, whose, and who revoked it."""
    if actor is not None and not (actor.is_superuser or actor.pk == token.user_id):
        raise PermissionDenied(_("You may revoke only your own tokens."))
    owner = token.user
    key = token.token_key
    deleted, _rows = AuthToken.objects.filter(pk=token.pk).delete()
    if not deleted:
        return  # revoked already, by someone else a moment ago: nothing more to record
    audit.record(actor=actor, verb="api_token.revoked", target=owner, details={"token_key": key})


def record_authentication_event(
    *, user: Any | None, verb: str, request: Any | None = None, **details: Any
) -> None:
    """Write a sign-in, sign-out or MFA event, with where the request came from."""
    if request is not None:
        details.setdefault("ip", client_address(request))
        details.setdefault("user_agent", request.META.get("HTTP_USER_AGENT", "")[:200])
    audit.record(actor=user, verb=verb, target=user if user is not None else None, details=details)


def record_refusal(*, user: Any, request: Any, reason: str) -> None:
    """A signed-in person was refused an act (a 403): who, what they tried and why, so that
    probing for authority leaves a trace. Unsigned requests are not people yet: not recorded."""
    if user is None or not getattr(user, "is_authenticated", False):
        return
    audit.record(
        actor=user,
        verb="authz.refused",
        details={
            "method": request.method,
            "path": request.path[:300],
            "reason": reason[:500],
            "ip": client_address(request),
        },
    )


def unit_group_name(unit: BusinessUnit) -> str:
    return f"unit:{unit.code}"


@transaction.atomic
def sync_unit_group(*, unit: BusinessUnit) -> Group:
    """Make the unit's group hold exactly its head and members: grants on the unit's cases,
    systems and actions go to this group, so who belongs decides who sees and changes them.
    Idempotent; call it after any change of head or membership."""
    group = unit.group
    if group is None:
        group, _created = Group.objects.get_or_create(name=unit_group_name(unit))
        BusinessUnit.objects.filter(pk=unit.pk).update(group=group)
        unit.group = group
    wanted = set(Membership.objects.filter(unit=unit).values_list("user_id", flat=True))
    if unit.head_id is not None:
        wanted.add(unit.head_id)
    current = set(group.user_set.values_list("pk", flat=True))
    added, removed = wanted - current, current - wanted
    if added:
        group.user_set.add(*added)
    if removed:
        group.user_set.remove(*removed)
    if added or removed:
        # Who belongs decides who sees the unit's cases: every change of it is on the record.
        names = dict(User.objects.filter(pk__in=added | removed).values_list("pk", "username"))
        audit.record(
            actor=None,
            verb="unit.access_changed",
            target=unit,
            details={
                "added": sorted(names[pk] for pk in added),
                "removed": sorted(names[pk] for pk in removed),
            },
        )
    return group


@transaction.atomic
def add_member(
    *, actor: User | None, unit: BusinessUnit, user: User, kind: str = Membership.Kind.MEMBER
) -> Membership:
    """Put a person in a business unit (an administrator's act), with the unit's grants."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only an administrator changes who belongs to a unit."))
    membership, created = Membership.objects.get_or_create(
        user=user, unit=unit, defaults={"kind": kind}
    )
    if not created and membership.kind != kind:
        membership.kind = kind
        membership.save(update_fields=["kind"])
    sync_unit_group(unit=unit)
    if created:
        audit.record(
            actor=actor,
            verb="unit.member_added",
            target=unit,
            details={"user": user.get_username(), "kind": kind},
        )
    return membership


UNIT_GRANTS = ("view", "change")


def _unit_perms(obj: Any) -> list[str]:
    meta = obj._meta
    return [f"{meta.app_label}.{grant}_{meta.model_name}" for grant in UNIT_GRANTS]


def grant_to_unit(*, obj: Any, unit: BusinessUnit) -> None:
    """Let a unit (its group: head and members) see and change one of its records."""
    group = unit.group or sync_unit_group(unit=unit)
    for perm in _unit_perms(obj):
        assign_perm(perm, group, obj)


def revoke_from_unit(*, obj: Any, unit: BusinessUnit) -> None:
    """Take a record's grants away from a unit that no longer owns it."""
    if unit.group is not None:
        for perm in _unit_perms(obj):
            remove_perm(perm, unit.group, obj)


@transaction.atomic
def set_language(*, actor: User, language: str) -> User:
    """Record the language a person reads the product in, which their mail is written in from
    now on. Only their own: picking a language on the site is the way to change it (or an
    administrator's edit of the person). Unchanged, nothing is written."""
    offered = {code for code, _name in settings.LANGUAGES}
    if language and language not in offered:
        raise ValidationError(
            {"language": _("%(language)s is not a language of this site.") % {"language": language}}
        )
    person = User.objects.select_for_update().get(pk=actor.pk)
    if person.language == language:
        return person
    before, person.language = person.language, language
    person.save(update_fields=["language"])
    actor.language = language
    audit.record(
        actor=actor,
        verb="account.language_set",
        target=person,
        details={"from": before, "to": language},
    )
    return person
