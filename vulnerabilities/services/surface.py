"""Discovered assets: triaged by the CISO's office (assigned to a unit, or dismissed with a
reason), then attached by the unit to the system it registered or already had.

Attaching adds the address to the system's network identities, so the next scan places it,
and moves the services already seen there onto the system. One declared flow; the service
refuses any other move, whichever door it comes in.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import BusinessUnit, User
from audit import services as audit
from config.errors import Conflict
from config.versioning import check_version
from systems import inventory
from systems.models import NetworkIdentity, System
from vulnerabilities import policy
from vulnerabilities.models import DiscoveredAsset, ExposedService

S = DiscoveredAsset.State
# Where each act takes an asset from where it stands. An asset attached to a system stays
# "assigned" (its unit's) but is settled: its stage is ATTACHED, from which no act leads.
# Detaching it again is the register's business (the system's network identities), not triage.
ATTACHED = "attached"
ASSET_FLOW: dict[str, dict[str, str]] = {
    "assign": {S.NEW: S.ASSIGNED, S.ASSIGNED: S.ASSIGNED},
    "dismiss": {S.NEW: S.DISMISSED, S.ASSIGNED: S.DISMISSED},
    "attach": {S.ASSIGNED: S.ASSIGNED, S.NEW: S.ASSIGNED},
}
ACT_NAMES = {
    "assign": gettext_lazy("assigned"),
    "dismiss": gettext_lazy("dismissed"),
    "attach": gettext_lazy("attached to a system"),
}


def _locked(asset: DiscoveredAsset, expected_version: str | None) -> DiscoveredAsset:
    asset = DiscoveredAsset.objects.select_for_update().get(pk=asset.pk)
    check_version(asset, expected_version)
    return asset


def stage(asset: DiscoveredAsset) -> str:
    """Where the asset stands for triage: its state, or ATTACHED once it is a system's."""
    return ATTACHED if asset.system_id is not None else asset.state


def may(asset: DiscoveredAsset, act: str) -> bool:
    """Whether the act fits where the asset stands (what the pages offer; who may is policy's)."""
    return stage(asset) in ASSET_FLOW[act]


def target(asset: DiscoveredAsset, act: str) -> str:
    """Where the act takes the asset (ASSET_FLOW), or a 409 saying where it stands."""
    to = ASSET_FLOW[act].get(stage(asset))
    if to is None and asset.system_id is not None:
        raise Conflict(
            _("This asset is attached to %(system)s already: it cannot be %(act)s.")
            % {"system": asset.system, "act": ACT_NAMES[act]},
            code="asset_attached",
        )
    if to is None:
        raise Conflict(
            _("This asset is “%(state)s”: it cannot be %(act)s.")
            % {"state": asset.get_state_display(), "act": ACT_NAMES[act]},
            code="asset_state",
        )
    return to


def _save(asset: DiscoveredAsset, fields: list[str]) -> None:
    asset.version_number += 1
    asset.save(update_fields=[*fields, "version_number", "updated_at"])


@transaction.atomic
def assign(
    *,
    actor: User,
    asset: DiscoveredAsset,
    unit: BusinessUnit,
    due_on: dt.date | None = None,
    note: str = "",
    expected_version: str | None = None,
) -> DiscoveredAsset:
    """The CISO's office gives the asset to a unit, which registers it or attaches it to one
    of its systems (by `due_on`, when the office sets a new deadline)."""
    office = policy.ciso_office(actor)
    if office is None:
        raise PermissionDenied(_("Only the CISO's office triages discovered assets."))
    asset = _locked(asset, expected_version)
    to = target(asset, "assign")
    if not unit.is_active:
        raise ValidationError({"unit": _("This unit is no longer active.")})
    if due_on is not None and due_on < timezone.localdate():
        raise ValidationError({"due_on": _("The deadline cannot be in the past.")})
    previous = asset.unit.code if asset.unit is not None else None
    asset.state, asset.unit = to, unit
    asset.due_on = due_on or asset.due_on
    asset.note = note.strip() or asset.note
    asset.decided_by, asset.decided_office, asset.decided_at = actor, office, timezone.now()
    _save(asset, ["state", "unit", "due_on", "note", "decided_by", "decided_office", "decided_at"])
    audit.record(
        actor=actor,
        office=office,
        verb="discovered_asset.assigned",
        target=asset,
        target_label=asset.address,
        details={"unit": unit.code, "from": previous, "due_on": str(asset.due_on)},
    )
    return asset


@transaction.atomic
def dismiss(
    *,
    actor: User,
    asset: DiscoveredAsset,
    reason: str,
    note: str = "",
    expected_version: str | None = None,
) -> DiscoveredAsset:
    """Not ours, or decommissioned: the CISO's office says which, and why in words. One
    decommissioned that a later scan finds answering is new again."""
    office = policy.ciso_office(actor)
    if office is None:
        raise PermissionDenied(_("Only the CISO's office triages discovered assets."))
    asset = _locked(asset, expected_version)
    to = target(asset, "dismiss")
    if reason not in DiscoveredAsset.Reason.values:
        raise ValidationError(
            {"reason": _("Say why: %(choices)s.")
             % {"choices": ", ".join(str(label) for label in DiscoveredAsset.Reason.labels)}}
        )  # fmt: skip
    if not note.strip():
        raise ValidationError({"note": _("Say in a few words how you know.")})
    asset.state, asset.reason, asset.note = to, reason, note.strip()
    asset.decided_by, asset.decided_office, asset.decided_at = actor, office, timezone.now()
    _save(asset, ["state", "reason", "note", "decided_by", "decided_office", "decided_at"])
    audit.record(
        actor=actor,
        office=office,
        verb="discovered_asset.dismissed",
        target=asset,
        target_label=asset.address,
        details={"reason": reason, "note": asset.note[:500]},
    )
    return asset


@transaction.atomic
def attach(
    *,
    actor: User,
    asset: DiscoveredAsset,
    system: System,
    expected_version: str | None = None,
) -> DiscoveredAsset:
    """The address is this system's: added to its network identities from today, and the
    services seen there become the system's."""
    if not policy.can_claim_asset(actor, asset, system):
        raise PermissionDenied(
            _("Only the unit the asset was assigned to attaches it, to one of its systems.")
        )
    asset = _locked(asset, expected_version)
    to = target(asset, "attach")
    known = NetworkIdentity.objects.filter(
        system=system, kind=NetworkIdentity.Kind.IP, value=asset.address, valid_to__isnull=True
    ).exists()
    if not known:
        # The unit claims the address as the system's since it was first seen, so the scans
        # that found it (placed by the identities of their own day) place it from then on.
        inventory.add_network_identity(
            actor=actor,
            system=system,
            kind=NetworkIdentity.Kind.IP,
            value=asset.address,
            valid_from=min(timezone.localdate(asset.first_seen_at), timezone.localdate()),
        )
    asset.state, asset.system, asset.unit_id = to, system, system.unit_id
    _save(asset, ["state", "system", "unit"])
    moved = ExposedService.objects.filter(asset=asset).update(system=system, asset=None)
    audit.record(
        actor=actor,
        office=policy.ciso_office(actor) or "",
        verb="discovered_asset.attached",
        target=asset,
        target_label=asset.address,
        details={"system": system.code, "services": moved},
    )
    return asset
