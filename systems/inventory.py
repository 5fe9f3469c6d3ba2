"""The inventory's services: what software a system runs and how it is known on the network.

The owning unit keeps it: entries typed by hand or sent through the API, a whole inventory
replaced in one request, or a CycloneDX SBOM whose entries replace those the previous SBOM of
the same subject supplied. Entries are never deleted (a removal stamps `removed_at`), so the
history stays. Every change sends `inventory_changed` inside the transaction: the apps above
(vulnerabilities) rematch the system before it commits, so findings never lag the inventory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit import services as audit
from config.errors import PreconditionFailed
from systems import packages, policy
from systems.models import Component, NetworkIdentity, SbomUpload, System
from systems.sbom import Sbom, SbomError, read_cyclonedx

# sent with system_ids and actor, inside the transaction that changed the inventory
inventory_changed = Signal()

MAX_ENTRIES = 20000


@dataclass(frozen=True)
class Entry:
    """One component to put on a system: its kind, identifier and (if not in it) version."""

    kind: str
    identifier: str
    version: str = ""


@dataclass(frozen=True)
class Change:
    """What an inventory write did."""

    added: int
    removed: int
    kept: int
    unknown_ecosystems: dict[str, int]


def inventory_etag(system: System) -> str:
    """The version of a system's current inventory, for If-Match on a whole replacement."""
    ids = (
        Component.objects.current()
        .filter(system=system)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:20]
    return f'"inv-{digest}"'


def _authorize(actor: User, system: System) -> None:
    if not policy.can_keep_inventory(actor, system):
        raise PermissionDenied(_("Only the owning unit keeps this system's inventory."))


def read_entries(entries: Iterable[Entry]) -> list[packages.Identity]:
    """Each entry's identity, or one ValidationError naming every bad entry by its index."""
    read: list[packages.Identity] = []
    errors: dict[str, str] = {}
    for index, entry in enumerate(entries):
        try:
            read.append(packages.read_identity(entry.kind, entry.identifier, version=entry.version))
        except packages.PackageError as exc:
            errors[f"components[{index}]"] = str(exc)
    if errors:
        raise ValidationError(errors)
    if len(read) > MAX_ENTRIES:
        raise ValidationError(
            {"components": _("At most %(limit)s entries a system.") % {"limit": MAX_ENTRIES}}
        )
    return read


def _unknown(identities: Iterable[packages.Identity]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for identity in identities:
        if not identity.scheme:
            kind = identity.package.split("/", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def _apply(
    *,
    actor: User,
    system: System,
    wanted: Sequence[packages.Identity],
    replacing: Any,
    source: str,
    sbom: SbomUpload | None = None,
) -> Change:
    """Make `replacing` (current components) become `wanted`: rows already there are kept,
    missing ones stamped removed, new ones added."""
    now = timezone.now()
    by_written = {identity.written: identity for identity in wanted}
    current = {row.identifier: row for row in replacing.select_for_update()}
    gone = [row.pk for written, row in current.items() if written not in by_written]
    # An identifier supplied elsewhere (by hand, another SBOM) is not added twice.
    elsewhere = set(
        Component.objects.current()
        .filter(system=system, identifier__in=list(by_written))
        .exclude(pk__in=[row.pk for row in current.values()])
        .values_list("identifier", flat=True)
    )
    Component.objects.filter(pk__in=gone).update(removed_at=now)
    new = [
        Component(
            system=system,
            kind=identity.kind,
            package=identity.package,
            scheme=identity.scheme,
            name=identity.name[:200],
            version=identity.version,
            identifier=written,
            source=source,
            sbom=sbom,
            added_by=actor,
            added_at=now,
        )
        for written, identity in by_written.items()
        if written not in current and written not in elsewhere
    ]
    Component.objects.bulk_create(new, batch_size=2000)
    if sbom is not None:
        Component.objects.filter(pk__in=[row.pk for row in current.values()]).exclude(
            pk__in=gone
        ).update(sbom=sbom)
    return Change(
        added=len(new),
        removed=len(gone),
        kept=len(current) - len(gone),
        unknown_ecosystems=_unknown(wanted),
    )


def _counts(change: Change, **details: Any) -> dict[str, Any]:
    """An inventory change's audit details."""
    return {
        "added": change.added,
        "removed": change.removed,
        "kept": change.kept,
        "unknown_ecosystems": change.unknown_ecosystems,
        **details,
    }


def _rematch(*, actor: User, system: System, change: Change) -> None:
    """Tell the floors above that the system runs something else now (same transaction)."""
    if change.added or change.removed:
        inventory_changed.send(sender=System, system_ids=[system.pk], actor=actor)


@transaction.atomic
def add_components(*, actor: User, system: System, entries: Sequence[Entry]) -> Change:
    """Add entries typed by hand or sent through the API; ones already there are left as they
    are."""
    _authorize(actor, system)
    wanted = read_entries(entries)
    if not wanted:
        raise ValidationError({"components": _("Name at least one component.")})
    System.objects.select_for_update().filter(pk=system.pk).first()
    current = Component.objects.current().filter(
        system=system, identifier__in=[identity.written for identity in wanted]
    )
    change = _apply(
        actor=actor,
        system=system,
        wanted=wanted,
        replacing=current,
        source=Component.Source.MANUAL,
    )
    audit.record(
        actor=actor, verb="system.components_added", target=system, details=_counts(change)
    )
    _rematch(actor=actor, system=system, change=change)
    return change


@transaction.atomic
def remove_component(*, actor: User, component: Component) -> Component:
    """Take one entry off the system's inventory (kept as history)."""
    system = component.system
    _authorize(actor, system)
    component = Component.objects.select_for_update().get(pk=component.pk)
    if component.removed_at is not None:
        return component
    component.removed_at = timezone.now()
    component.save(update_fields=["removed_at"])
    change = Change(added=0, removed=1, kept=0, unknown_ecosystems={})
    audit.record(
        actor=actor,
        verb="system.components_removed",
        target=system,
        details=_counts(change, component=component.identifier),
    )
    _rematch(actor=actor, system=system, change=change)
    return component


@transaction.atomic
def replace_inventory(
    *, actor: User, system: System, entries: Sequence[Entry], expected_version: str | None = None
) -> Change:
    """The system's whole inventory becomes `entries`, in one step (If-Match guards it)."""
    _authorize(actor, system)
    wanted = read_entries(entries)
    System.objects.select_for_update().filter(pk=system.pk).first()
    if expected_version is not None and expected_version != inventory_etag(system):
        raise PreconditionFailed()
    change = _apply(
        actor=actor,
        system=system,
        wanted=wanted,
        replacing=Component.objects.current().filter(system=system),
        source=Component.Source.MANUAL,
    )
    audit.record(
        actor=actor, verb="system.inventory_replaced", target=system, details=_counts(change)
    )
    _rematch(actor=actor, system=system, change=change)
    return change


def read_sbom(stream: IO[bytes], *, size: int | None) -> Sbom:
    """The SBOM in an upload, refused before it is read when it is larger than allowed."""
    limit = settings.SBOM_MAX_BYTES
    if size is not None and size > limit:
        raise ValidationError(
            {"file": _("The SBOM is larger than %(limit)s.") % {"limit": filesizeformat(limit)}}
        )
    try:
        return read_cyclonedx(cast(BinaryIO, stream), max_bytes=limit)
    except SbomError as exc:
        raise ValidationError({"file": str(exc)}) from None


def subject_of(sbom: Sbom) -> str:
    """What an SBOM describes, without its version: the next release's SBOM of the same thing
    replaces this one's entries."""
    subject = sbom.subject
    if subject.startswith("pkg:"):
        try:
            return packages.read_purl(subject, version="0").package
        except packages.PackageError:
            return subject.split("@", 1)[0]
    return subject.rsplit("@", 1)[0] if "@" in subject and ":" not in subject else subject


@transaction.atomic
def upload_sbom(
    *, actor: User, system: System, stream: IO[bytes], filename: str = "", size: int | None = None
) -> tuple[SbomUpload, Change]:
    """A CycloneDX JSON SBOM: its entries replace those the previous SBOM of the same subject
    supplied, atomically; a file that is not what it claims changes nothing."""
    _authorize(actor, system)
    sbom = read_sbom(stream, size=size)
    System.objects.select_for_update().filter(pk=system.pk).first()
    upload = SbomUpload.objects.create(
        system=system,
        subject=subject_of(sbom)[:500],
        spec_version=sbom.spec_version,
        serial_number=sbom.serial_number[:200],
        bom_version=sbom.version,
        filename=filename[:255],
        sha256=sbom.sha256,
        entries=len(sbom.entries),
        skipped=dict(sbom.skipped),
        uploaded_by=actor,
        uploaded_at=timezone.now(),
    )
    earlier = SbomUpload.objects.filter(system=system, subject=upload.subject).exclude(pk=upload.pk)
    change = _apply(
        actor=actor,
        system=system,
        wanted=[entry.identity for entry in sbom.entries],
        replacing=Component.objects.current().filter(system=system, sbom__in=earlier),
        source=Component.Source.SBOM,
        sbom=upload,
    )
    audit.record(
        actor=actor,
        verb="system.sbom_uploaded",
        target=system,
        details=_counts(
            change, subject=upload.subject, sha256=upload.sha256, skipped=upload.skipped
        ),
    )
    _rematch(actor=actor, system=system, change=change)
    return upload, change


# --- Network identities ------------------------------------------------------------------------

HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$"
)
IMAGE_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def clean_network_value(kind: str, value: str) -> str:
    """A network identity's value in its one written form, or ValidationError naming it."""
    value = value.strip()
    try:
        if kind == NetworkIdentity.Kind.IP:
            return str(ipaddress.ip_address(value))
        if kind == NetworkIdentity.Kind.RANGE:
            return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValidationError({"value": str(exc)}) from None
    if kind == NetworkIdentity.Kind.HOSTNAME and HOSTNAME.match(value.lower()):
        return value.lower().rstrip(".")
    if kind == NetworkIdentity.Kind.IMAGE and IMAGE_DIGEST.match(value.lower()):
        return value.lower()
    if kind not in NetworkIdentity.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of network identity.")})
    raise ValidationError(
        {"value": _("Not a valid %(kind)s.") % {"kind": NetworkIdentity.Kind(kind).label}}
    )


@transaction.atomic
def add_network_identity(
    *,
    actor: User,
    system: System,
    kind: str,
    value: str,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> NetworkIdentity:
    """Say how the system is known on the network, from a date (today) to a date (open)."""
    _authorize(actor, system)
    identity = NetworkIdentity(
        system=system,
        kind=kind,
        value=clean_network_value(kind, value),
        valid_from=valid_from or timezone.localdate(),
        valid_to=valid_to,
        added_by=actor,
    )
    if valid_to is not None and valid_to < identity.valid_from:
        raise ValidationError({"valid_to": _("The end comes before the start.")})
    identity.full_clean()
    identity.save()
    audit.record(
        actor=actor,
        verb="system.network_identity_added",
        target=system,
        details={"kind": kind, "value": identity.value, "valid_from": str(identity.valid_from)},
    )
    return identity


@transaction.atomic
def end_network_identity(
    *, actor: User, identity: NetworkIdentity, valid_to: dt.date | None = None
) -> NetworkIdentity:
    """The system is no longer known by it from a date (today): kept, with its end."""
    _authorize(actor, identity.system)
    identity = NetworkIdentity.objects.select_for_update().get(pk=identity.pk)
    end = valid_to or timezone.localdate()
    if end < identity.valid_from:
        raise ValidationError({"valid_to": _("The end comes before the start.")})
    identity.valid_to = end
    identity.save(update_fields=["valid_to"])
    audit.record(
        actor=actor,
        verb="system.network_identity_ended",
        target=identity.system,
        details={"kind": identity.kind, "value": identity.value, "valid_to": str(end)},
    )
    return identity
