"""Every write to actions: create, start, submit, verify, return, cancel, update, re-plan.

Each write locks the action, checks the version the client read (If-Match), applies one
rule from the act table, appends an update line, bumps the version and records the audit
event, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import BusinessUnit, User
from accounts.services import sync_unit_group
from actions import policy
from actions.models import Action, ActionUpdate, Evidence
from audit import services as audit
from config.errors import PreconditionFailed
from config.lifecycle import next_status

A = Action.Status
# open → in progress → submitted → verified; submitted → returned → in progress;
# cancelled (with a reason) from any unfinished state. Declared once.
ACTION_FLOW: dict[str, dict[str, str]] = {
    "start": {A.OPEN: A.IN_PROGRESS, A.RETURNED: A.IN_PROGRESS},
    "submit": {A.IN_PROGRESS: A.SUBMITTED},
    "verify": {A.SUBMITTED: A.VERIFIED},
    "return": {A.SUBMITTED: A.RETURNED},
    "cancel": {s: A.CANCELLED for s in (A.OPEN, A.IN_PROGRESS, A.SUBMITTED, A.RETURNED)},
}
FINISHED = {A.VERIFIED, A.CANCELLED}
UNIT_PERMISSIONS = ("actions.view_action", "actions.change_action")


def etag(action: Action) -> str:
    return f'"{action.pk}-v{action.version}"'


def _locked(action: Action) -> Action:
    return Action.objects.select_for_update().get(pk=action.pk)


def _check_version(action: Action, expected_version: str | None) -> None:
    """Refuse (412) a write made against a version the client no longer has in front of it."""
    if expected_version is not None and expected_version not in {"*", etag(action)}:
        raise PreconditionFailed()


def _grant(action: Action, unit: BusinessUnit) -> None:
    group = unit.group or sync_unit_group(unit=unit)
    for perm in UNIT_PERMISSIONS:
        assign_perm(perm, group, action)


def _save(action: Action, fields: Sequence[str]) -> None:
    action.version += 1
    action.save(update_fields=[*fields, "version", "updated_at"])


@transaction.atomic
def create_action(
    *,
    actor: User,
    unit: BusinessUnit,
    title: str,
    due_on: dt.date,
    domain: str = "security",
    description: str = "",
    assignee: User | None = None,
    priority: str = Action.Priority.NORMAL,
    system: Any | None = None,
    origin_incident: Any | None = None,
    origin_measure: Any | None = None,
) -> Action:
    """Give a unit a piece of work with a due date. The domain's office or the chair may task
    any unit; a unit may record work for itself."""
    if not policy.can_create_action(actor, unit, domain):
        raise PermissionDenied(
            f"Only the {domain} office, the chair or {unit.code} may task {unit.code}."
        )
    if due_on < timezone.localdate():
        raise ValidationError({"due_on": "The due date has already passed."})
    if assignee is not None and not assignee.groups.filter(pk=unit.group_id).exists():
        raise ValidationError({"assignee": f"The assignee must belong to {unit.code}."})
    action = Action(
        reference=audit.next_reference("ACT"),
        title=title,
        description=description,
        domain=domain,
        unit=unit,
        assignee=assignee,
        due_on=due_on,
        priority=priority,
        system=system,
        origin_incident=origin_incident,
        origin_measure=origin_measure,
        issued_by=actor,
        issued_office=policy.owning_office(actor, domain) or "",
    )
    action.full_clean()
    action.save()
    _grant(action, unit)
    audit.record(
        actor=actor,
        office=action.issued_office,
        verb="action.created",
        target=action,
        details={"unit": unit.code, "due_on": due_on.isoformat(), "domain": domain},
    )
    return action


@transaction.atomic
def transition_action(
    *,
    actor: User,
    action: Action,
    act: str,
    expected_version: str | None = None,
    note: str = "",
) -> Action:
    """Start, submit, verify, return or cancel. Verifying and returning are the domain office's
    (never the submitter's own); cancelling needs a reason and is the issuing side's."""
    action = _locked(action)
    to = next_status(action.status, act, ACTION_FLOW, "an action")
    office = ""
    if act in {"start", "submit"}:
        if not policy.can_progress(actor, action):
            raise PermissionDenied("Only members of the owning unit may do this.")
    elif act in {"verify", "return"}:
        if policy.owning_office(actor, action.domain) is None:
            raise PermissionDenied(
                "Only the office that owns this domain, or the chair, may do this."
            )
        if action.submitted_by_id == actor.pk:
            raise PermissionDenied("Nobody verifies their own submission (segregation of duties).")
        office = policy.owning_office(actor, action.domain) or ""
    elif act == "cancel":
        if not policy.can_replan(actor, action):
            raise PermissionDenied("Only the issuing office or the chair may cancel an action.")
        if not note.strip():
            raise ValidationError({"note": "Say why the action is cancelled."})
        office = policy.owning_office(actor, action.domain) or ""
    if act == "return" and not note.strip():
        raise ValidationError({"note": "Say what is missing."})
    _check_version(action, expected_version)
    previous = action.status
    action.status = to
    fields = ["status"]
    now = timezone.now()
    if act == "submit":
        action.submitted_by, action.submitted_at = actor, now
        fields += ["submitted_by", "submitted_at"]
    elif act == "verify":
        action.verified_by, action.verified_at = actor, now
        action.percent_done = 100
        fields += ["verified_by", "verified_at", "percent_done"]
    elif act == "cancel":
        action.cancel_reason = note.strip()
        fields += ["cancel_reason"]
    _save(action, fields)
    ActionUpdate.objects.create(
        action=action, author=actor, at=now, note=note.strip(), new_status=to
    )
    audit.record(
        actor=actor,
        office=office,
        verb=f"action.{to}",
        target=action,
        details={"from": previous, "to": to, "note": note.strip()},
    )
    return action


def _check_file(upload: UploadedFile) -> None:
    if upload.size is None or upload.size > settings.EVIDENCE_MAX_BYTES:
        limit = settings.EVIDENCE_MAX_BYTES // (1024 * 1024)
        raise ValidationError({"files": f"{upload.name}: larger than {limit} MiB."})
    if upload.content_type not in settings.EVIDENCE_CONTENT_TYPES:
        raise ValidationError(
            {"files": f"{upload.name}: {upload.content_type} is not an accepted evidence type."}
        )


@transaction.atomic
def add_update(
    *,
    actor: User,
    action: Action,
    expected_version: str | None = None,
    note: str = "",
    percent_done: int | None = None,
    files: Sequence[UploadedFile] = (),
) -> ActionUpdate:
    """The owning unit reports progress: a note, a percentage, evidence files."""
    if not policy.can_progress(actor, action):
        raise PermissionDenied("Only members of the owning unit may update this action.")
    if not note.strip() and percent_done is None and not files:
        raise ValidationError({"note": "Send a note, a percentage or evidence."})
    if percent_done is not None and not 0 <= percent_done <= 100:
        raise ValidationError({"percent_done": "Must be from 0 to 100."})
    for upload in files:
        _check_file(upload)
    action = _locked(action)
    _check_version(action, expected_version)
    if action.status in FINISHED:
        raise ValidationError({"status": f"A {action.status} action takes no more updates."})
    update = ActionUpdate.objects.create(
        action=action, author=actor, note=note.strip(), percent_done=percent_done
    )
    for upload in files:
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        Evidence.objects.create(
            update=update,
            file=upload,
            name=upload.name or "evidence",
            size=upload.size or 0,
            content_type=upload.content_type or "",
            sha256=digest.hexdigest(),
        )
    fields: list[str] = []
    if percent_done is not None:
        action.percent_done = percent_done
        fields.append("percent_done")
    _save(action, fields)
    audit.record(
        actor=actor,
        verb="action.updated",
        target=action,
        details={
            "update": update.pk,
            "percent_done": percent_done,
            "files": [f.name for f in files],
        },
    )
    return update


@transaction.atomic
def replan_action(
    *,
    actor: User,
    action: Action,
    reason: str,
    expected_version: str | None = None,
    due_on: dt.date | None = None,
    unit: BusinessUnit | None = None,
    assignee: User | None = None,
    domain: str | None = None,
) -> Action:
    """Change who owns an action, when it is due or which domain it is in: the issuing office's
    (or the chair's) call, with a reason. A unit cannot move its own deadline."""
    if not policy.can_replan(actor, action):
        raise PermissionDenied("Only the issuing office or the chair may re-plan an action.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the action is re-planned."})
    action = _locked(action)
    _check_version(action, expected_version)
    if action.status in FINISHED:
        raise ValidationError({"status": f"A {action.status} action cannot be re-planned."})
    changes: dict[str, Any] = {}
    if due_on is not None and due_on != action.due_on:
        changes["due_on"] = (action.due_on.isoformat(), due_on.isoformat())
        action.due_on = due_on
    if domain is not None and domain != action.domain:
        changes["domain"] = (action.domain, domain)
        action.domain = domain
    if unit is not None and unit.pk != action.unit_id:
        previous = action.unit
        if previous.group is not None:
            for perm in UNIT_PERMISSIONS:
                remove_perm(perm, previous.group, action)
        _grant(action, unit)
        changes["unit"] = (previous.code, unit.code)
        action.unit = unit
        action.escalation_level = 0
    if assignee is not None and assignee.pk != action.assignee_id:
        if not assignee.groups.filter(pk=action.unit.group_id).exists():
            raise ValidationError({"assignee": f"The assignee must belong to {action.unit.code}."})
        changes["assignee"] = (getattr(action.assignee, "username", None), assignee.username)
        action.assignee = assignee
    if not changes:
        return action
    action.full_clean()
    _save(action, ["due_on", "domain", "unit", "assignee", "escalation_level"])
    audit.record(
        actor=actor,
        office=policy.owning_office(actor, action.domain),
        verb="action.replanned",
        target=action,
        details={
            **{k: {"from": a, "to": b} for k, (a, b) in changes.items()},
            "reason": reason.strip(),
        },
    )
    return action
