"""Every write to the system register: register, change, suspend, lift. Policy first, audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import BusinessUnit, User
from accounts.services import grant_to_unit, revoke_from_unit
from audit import services as audit
from config.errors import Conflict
from config.text import one_line
from config.versioning import check_version
from outbox import relay as outbox
from systems import policy
from systems.models import SuspensionOrder, System
from systems.tasks import notify_suspension

CHANGEABLE_FIELDS = (
    "name",
    "description",
    "environment",
    "internet_facing",
    "handles_personal_data",
    "mfa_enforced",
    "criticality",
)


@transaction.atomic
def register_system(
    *,
    actor: User,
    unit: BusinessUnit,
    code: str,
    name: str,
    description: str = "",
    environment: str = System.Environment.PRODUCTION,
    internet_facing: bool = False,
    handles_personal_data: bool = False,
    mfa_enforced: bool = False,
    criticality: str = System.Criticality.MEDIUM,
    status: str = System.Status.OPERATIONAL,
    registration: str = System.Registration.REGISTERED,
) -> System:
    """A unit puts one of its systems on the register; the unit's group may see and change it."""
    if not policy.can_register_system(actor, unit):
        raise PermissionDenied(
            _("Only members of %(unit)s may register its systems.") % {"unit": unit.code}
        )
    if status == System.Status.SUSPENDED:
        raise ValidationError({"status": _("Only a suspension order suspends a system.")})
    # Codes are unique within a unit: only the unit's own systems, which its members see, are
    # looked at, so the answer says nothing of other units' registers.
    taken = _("%(unit)s already has a system with this code.") % {"unit": unit.code}
    if System.objects.filter(unit=unit, code=code).exists():
        raise ValidationError({"code": taken})
    system = System(
        code=code,
        name=one_line(name),
        unit=unit,
        description=description,
        environment=environment,
        internet_facing=internet_facing,
        handles_personal_data=handles_personal_data,
        mfa_enforced=mfa_enforced,
        criticality=criticality,
        status=status,
        registration=registration,
        registered_by=actor,
    )
    system.full_clean()
    try:
        with transaction.atomic():
            system.save()
    except IntegrityError:  # a concurrent registration took the code between check and insert
        raise ValidationError({"code": taken}) from None
    grant_to_unit(obj=system, unit=unit)
    audit.record(
        actor=actor,
        verb="system.registered",
        target=system,
        details={
            "unit": unit.code,
            "internet_facing": internet_facing,
            "mfa_enforced": mfa_enforced,
        },
    )
    return system


@transaction.atomic
def update_system(
    *, actor: User, system: System, expected_version: str | None = None, **changes: Any
) -> System:
    """The owning unit corrects what the register says about a system (not its status).
    With `expected_version` (the ETag the client read), a write over a newer version is refused."""
    if not policy.can_change_system(actor, system):
        raise PermissionDenied(_("Only the owning unit may change this system."))
    unknown = set(changes) - set(CHANGEABLE_FIELDS)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in unknown})
    if "name" in changes:
        changes["name"] = one_line(str(changes["name"]))
    system = System.objects.select_for_update().get(pk=system.pk)
    check_version(system, expected_version)
    before = {field: getattr(system, field) for field in changes}
    for field, value in changes.items():
        setattr(system, field, value)
    system.full_clean()
    changed = [f for f in changes if before[f] != getattr(system, f)]
    if changed:
        system.save(update_fields=[*changed, "updated_at"])
        audit.record(
            actor=actor,
            verb="system.changed",
            target=system,
            details={f: {"from": before[f], "to": getattr(system, f)} for f in changed},
        )
    return system


@transaction.atomic
def suspend_system(
    *,
    actor: User,
    system: System,
    reason: str,
    case: Any | None = None,
    case_reference: str | None = None,
) -> SuspensionOrder:
    """CISO order: take a system out of service at once. The committee ratifies it later.
    The incident behind it comes as an object, or as its reference, looked up only after the
    policy check, so a refused caller learns nothing about which incidents exist."""
    office = policy.suspending_office(actor)
    if office is None:
        raise PermissionDenied(
            _("Only the CISO (or an acting delegate) or the chair may suspend a system.")
        )
    if not reason or not reason.strip():
        raise ValidationError({"reason": _("Say why the system is suspended.")})
    if case_reference:
        # systems sits below cases: the incident model is reached through the string foreign key.
        incident_model: Any = SuspensionOrder._meta.get_field("case").related_model
        case = incident_model._default_manager.filter(reference=case_reference).first()
        if case is None:
            raise ValidationError(
                {"case": _("No incident %(reference)s.") % {"reference": case_reference}}
            )
    system = System.objects.select_for_update().get(pk=system.pk)
    if system.status == System.Status.RETIRED:
        raise ValidationError({"system": _("A retired system cannot be suspended.")})
    if SuspensionOrder.objects.filter(system=system, status=SuspensionOrder.Status.ACTIVE).exists():
        raise Conflict(
            _("%(system)s is already suspended.") % {"system": system.code},
            code="already_suspended",
        )
    order = SuspensionOrder.objects.create(
        system=system,
        case=case,
        system_status_before=system.status,
        reason=reason.strip(),
        issued_by=actor,
        issued_office=office,
        issued_at=timezone.now(),
    )
    system.status = System.Status.SUSPENDED
    system.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        office=office,
        verb="system.suspended",
        target=system,
        details={"order": order.pk, "reason": order.reason, "case": getattr(case, "pk", None)},
    )
    outbox.enqueue(notify_suspension, order.pk, "suspended")
    return order


@transaction.atomic
def lift_suspension(*, actor: User, order: SuspensionOrder, reason: str) -> SuspensionOrder:
    """Reinstate a system: the order is lifted, and the system runs again when no order is active."""
    office = policy.suspending_office(actor)
    if office is None:
        raise PermissionDenied(
            _("Only the CISO (or an acting delegate) or the chair may lift a suspension.")
        )
    if not reason or not reason.strip():
        raise ValidationError({"reason": _("Say why the suspension is lifted.")})
    order = SuspensionOrder.objects.select_for_update().select_related("system").get(pk=order.pk)
    if order.status != SuspensionOrder.Status.ACTIVE:
        raise Conflict(_("This suspension was already lifted."), code="already_lifted")
    return _lift(actor=actor, office=office, order=order, reason=reason.strip())


def _lift(*, actor: User, office: str, order: SuspensionOrder, reason: str) -> SuspensionOrder:
    system = System.objects.select_for_update().get(pk=order.system_id)
    order.status = SuspensionOrder.Status.LIFTED
    order.lifted_by = actor
    order.lifted_office = office
    order.lifted_at = timezone.now()
    order.lift_reason = reason
    order.save(update_fields=["status", "lifted_by", "lifted_office", "lifted_at", "lift_reason"])
    if not SuspensionOrder.objects.filter(
        system=system, status=SuspensionOrder.Status.ACTIVE
    ).exists():
        system.status = order.system_status_before  # a planned system goes back to planned
        system.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        office=office,
        verb="system.reinstated",
        target=system,
        details={"order": order.pk, "reason": order.lift_reason},
    )
    outbox.enqueue(notify_suspension, order.pk, "lifted")
    return order


@transaction.atomic
def settle_ratification(
    *, actor: User, order: SuspensionOrder, ratify: bool, decision: Any, office: str
) -> SuspensionOrder:
    """The committee ratifies a CISO order, or overturns it (which lifts it if still active).
    The approved decision is the authority; `actor` is the chair whose decision it is and
    `office` the chair's office."""
    if not policy.can_settle_ratification(decision, ratify=ratify):
        raise PermissionDenied(_("Only a committee decision ratifies or overturns a suspension."))
    order = SuspensionOrder.objects.select_for_update().select_related("system").get(pk=order.pk)
    if order.ratification != SuspensionOrder.Ratification.PENDING:
        raise Conflict(
            _("The committee has already settled this suspension: %(ratification)s.")
            % {"ratification": order.get_ratification_display()},
            code="already_settled",
        )
    R = SuspensionOrder.Ratification
    order.ratification = R.RATIFIED if ratify else R.OVERTURNED
    order.ratification_decision = decision
    order.ratified_at = timezone.now()
    order.save(update_fields=["ratification", "ratification_decision", "ratified_at"])
    audit.record(
        actor=actor,
        office=office,
        verb=f"suspension.{order.ratification}",
        target=order.system,
        details={"order": order.pk, "decision": decision.reference},
    )
    if not ratify and order.status == SuspensionOrder.Status.ACTIVE:
        _lift(
            actor=actor,
            office=office,
            order=order,
            reason=f"Overturned by the committee ({decision.reference}).",
        )
    return order


@transaction.atomic
def retire_system(*, actor: User, system: System, reason: str) -> System:
    """Take a system off the register for good (its history stays); a suspended one is lifted first."""
    if not policy.can_change_system(actor, system):
        raise PermissionDenied(_("Only the owning unit may retire this system."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the system is retired.")})
    system = System.objects.select_for_update().get(pk=system.pk)
    if system.status == System.Status.SUSPENDED:
        raise Conflict(
            _("A suspended system is retired only after its suspension is lifted."),
            code="suspended",
        )
    if system.status == System.Status.RETIRED:
        raise Conflict(_("This system is already retired."), code="already_retired")
    previous = system.status
    system.status = System.Status.RETIRED
    system.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        verb="system.retired",
        target=system,
        details={"from": previous, "reason": reason.strip()},
    )
    return system


@transaction.atomic
def move_system(*, actor: User, system: System, unit: BusinessUnit) -> System:
    """Hand a system to another unit (an administrator's act): the grants move with it."""
    if not actor.is_superuser:
        raise PermissionDenied(_("Only an administrator moves a system to another unit."))
    system = System.objects.select_for_update().select_related("unit").get(pk=system.pk)
    previous = system.unit
    if previous.pk == unit.pk:
        return system
    revoke_from_unit(obj=system, unit=previous)
    system.unit = unit
    system.save(update_fields=["unit", "updated_at"])
    grant_to_unit(obj=system, unit=unit)
    audit.record(
        actor=actor,
        verb="system.moved",
        target=system,
        details={"from": previous.code, "to": unit.code},
    )
    return system
