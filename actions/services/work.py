"""Every write to one action: create, start, submit, verify, return, cancel, update, re-plan.

Each write locks the action, checks the version the client read (If-Match), applies one rule
of the act table, appends an update line, bumps the version and records the audit event, all
in one transaction; the head of the owning unit assigns it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import policy as accounts_policy
from accounts.models import BusinessUnit, User
from accounts.services import grant_to_unit, revoke_from_unit
from actions import evidence, policy
from actions.models import (
    Action,
    ActionUpdate,
    Evidence,
)
from actions.services.directives import _complete_directive_if_done
from actions.tasks import notify_submitted
from audit import services as audit
from config import dates, text
from config.errors import PreconditionFailed
from config.lifecycle import next_status
from config.sql import insert_instance, update_with_history
from outbox import relay as outbox

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


def etag(action: Action) -> str:
    return f'"{action.pk}-v{action.version}"'


def _locked(action: Action) -> Action:
    return Action.objects.select_for_update().get(pk=action.pk)


def _check_version(action: Action, expected_version: str | None) -> None:
    """Refuse (412) a write made against a version the client no longer has in front of it."""
    if expected_version is not None and expected_version not in {"*", etag(action)}:
        raise PreconditionFailed()


def _save(action: Action, fields: Sequence[str], actor: User) -> None:
    """The action's new version and the history row it leaves, by the person who changed it."""
    action.version += 1
    update_with_history(action, [*fields, "version", "updated_at"], user_id=actor.pk)


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
    origin_decision: Any | None = None,
    origin_project: Any | None = None,
    decided_office: str = "",
) -> Action:
    """Give a unit a piece of work with a due date. The domain's office or the chair may task
    any unit; a unit may record work for itself. An approved committee decision tasks any unit:
    the decision is the authority, and the action is issued under the chair's office,
    `decided_office`."""
    if not policy.can_create_action(
        actor, unit, domain, decision=origin_decision, project=origin_project
    ):
        raise PermissionDenied(
            _("Only the %(domain)s office, the chair or %(unit)s may task %(unit)s.")
            % {"domain": domain, "unit": unit.code}
        )
    dates.require_due("due_on", due_on, passed=_("The due date has already passed."))
    if assignee is not None and not assignee.groups.filter(pk=unit.group_id).exists():
        raise ValidationError(
            {"assignee": _("The assignee must belong to %(unit)s.") % {"unit": unit.code}}
        )
    action = Action(
        reference=audit.next_reference("ACT"),
        title=text.one_line(title),
        description=description,
        domain=domain,
        unit=unit,
        assignee=assignee,
        due_on=due_on,
        priority=priority,
        system=system,
        origin_incident=origin_incident,
        origin_measure=origin_measure,
        origin_decision=origin_decision,
        origin_project=origin_project,
        issued_by=actor,
        issued_office=decided_office
        if origin_decision is not None
        else policy.owning_office(actor, domain) or "",
    )
    action.full_clean()
    action.save()
    grant_to_unit(obj=action, unit=unit)
    audit.record(
        actor=actor,
        office=action.issued_office,
        verb="action.created",
        target=action,
        details={
            "unit": unit.code,
            "due_on": due_on.isoformat(),
            "domain": domain,
            "decision": getattr(origin_decision, "reference", None),
            "project": getattr(origin_project, "reference", None),
        },
    )
    return action


def _authorize_act(actor: User, action: Action, act: str, note: str) -> str:
    """Who may do `act` on this action; returns the office it is done under ("" for the unit)."""
    if act in {"start", "submit"}:
        if not policy.can_progress(actor, action):
            raise PermissionDenied(_("Only members of the owning unit may do this."))
        return ""
    office = policy.owning_office(actor, action.domain)
    if act in {"verify", "return"}:
        if office is None:
            raise PermissionDenied(
                _("Only the office that owns this domain, or the chair, may do this.")
            )
        if action.submitted_by_id == actor.pk:
            raise PermissionDenied(
                _("Nobody verifies their own submission (segregation of duties).")
            )
        if act == "return" and not note.strip():
            raise ValidationError({"note": _("Say what is missing.")})
    elif act == "cancel":
        if not policy.can_cancel(actor, action):
            raise PermissionDenied(_("Only the issuing office or the chair may cancel an action."))
        if not note.strip():
            raise ValidationError({"note": _("Say why the action is cancelled.")})
    return office or ""


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
    office = _authorize_act(actor, action, act, note)
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
    _save(action, fields, actor)
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
    if to == A.SUBMITTED:
        outbox.enqueue(notify_submitted, action.pk)  # the verifying office hears of it
    if to in {A.VERIFIED, A.CANCELLED} and action.directive_id is not None:
        _complete_directive_if_done(action.directive_id)
    return action


def _check_file(upload: UploadedFile) -> evidence.Recognised:
    """What the file is by its bytes, or a refusal naming it (actions/evidence.py)."""
    if upload.size is None or upload.size > settings.EVIDENCE_MAX_BYTES:
        limit = settings.EVIDENCE_MAX_BYTES // (1024 * 1024)
        raise ValidationError(
            {
                "files": _("%(file)s: larger than %(limit)s MiB.")
                % {"file": upload.name, "limit": limit}
            }
        )
    if upload.size == 0:
        raise ValidationError({"files": _("%(file)s: the file is empty.") % {"file": upload.name}})
    return evidence.recognise(
        upload,
        accepted=settings.EVIDENCE_CONTENT_TYPES,
        name_length=text.max_length(Evidence, "name"),
    )


def _hold_evidence(update: ActionUpdate, stored: list[Evidence]) -> None:
    """Give the new update its evidence as if prefetched (what Django's prefetch_related leaves
    on an instance), so whoever shows it next does not read back what was just written."""
    held = update.evidence.all()
    held._result_cache = stored
    held._prefetch_done = True  # type: ignore[attr-defined]  # Django's own, undeclared in stubs
    update._prefetched_objects_cache = {"evidence": held}  # type: ignore[attr-defined]  # same


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
    """The owning unit reports progress: a note, a percentage, evidence files. Only the
    action's id is read from `action`: the most frequent write in the product locks and reads
    the action with the grant can_progress asks about in one statement, and asks whether the
    person may see it (404, not 403) only when the answer is no."""
    locked = accounts_policy.lock_with_grant(Action, action.pk, actor)
    if locked is None or not policy.can_progress(actor, locked):
        if locked is None or not policy.visible_actions(actor).filter(pk=locked.pk).exists():
            raise Http404
        raise PermissionDenied(_("Only members of the owning unit may update this action."))
    action = locked
    if not note.strip() and percent_done is None and not files:
        raise ValidationError({"note": _("Send a note, a percentage or evidence.")})
    if percent_done is not None and not 0 <= percent_done <= 100:
        raise ValidationError({"percent_done": _("Must be from 0 to 100.")})
    recognised = [_check_file(upload) for upload in files]
    _check_version(action, expected_version)
    if action.status in FINISHED:
        raise ValidationError(
            {
                "status": _("This action's status is “%(status)s”: it takes no more updates.")
                % {"status": action.get_status_display()}
            }
        )
    update = insert_instance(
        ActionUpdate(action=action, author=actor, note=note.strip(), percent_done=percent_done)
    )
    stored: list[Evidence] = []
    for upload, what in zip(files, recognised, strict=True):
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        evidence_row = Evidence.objects.create(
            update=update,
            # Stored under a name of our making: the client's name is only shown, so no name
            # (too long for the disk, all symbols, many dots) can fail the write.
            file=File(upload, name=f"{uuid.uuid4().hex}.{what.extension}"),
            name=what.name,
            size=upload.size or 0,
            content_type=what.content_type,
            sha256=digest.hexdigest(),
        )
        stored.append(evidence_row)
    _hold_evidence(update, stored)
    fields: list[str] = []
    if percent_done is not None:
        action.percent_done = percent_done
        fields.append("percent_done")
    _save(action, fields, actor)
    audit.record(
        actor=actor,
        verb="action.updated",
        target=action,
        details={
            "update": update.pk,
            "percent_done": percent_done,
            "files": [what.name for what in recognised],
        },
    )
    return update


def _move_to_unit(
    action: Action, unit: BusinessUnit, *, keep_assignee: bool, changes: dict[str, Any]
) -> None:
    """Hand the action to another unit: the grants move, and the old unit's assignee goes."""
    previous = action.unit
    revoke_from_unit(obj=action, unit=previous)
    grant_to_unit(obj=action, unit=unit)
    changes["unit"] = (previous.code, unit.code)
    action.unit = unit
    if not keep_assignee and action.assignee is not None:
        changes["assignee"] = (action.assignee.username, None)
        action.assignee = None


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
        raise PermissionDenied(_("Only the issuing office or the chair may re-plan an action."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the action is re-planned.")})
    action = _locked(action)
    _check_version(action, expected_version)
    if action.status in FINISHED:
        raise ValidationError(
            {
                "status": _("This action's status is “%(status)s”: it cannot be re-planned.")
                % {"status": action.get_status_display()}
            }
        )
    changes: dict[str, Any] = {}
    dates.require_due("due_on", due_on, passed=_("The new due date has already passed."))
    if due_on is not None and due_on != action.due_on:
        changes["due_on"] = (action.due_on.isoformat(), due_on.isoformat())
        action.due_on = due_on
    if domain is not None and domain != action.domain:
        changes["domain"] = (action.domain, domain)
        action.domain = domain
    if unit is not None and unit.pk != action.unit_id:
        _move_to_unit(action, unit, keep_assignee=assignee is not None, changes=changes)
    if assignee is not None and assignee.pk != action.assignee_id:
        if not assignee.groups.filter(pk=action.unit.group_id).exists():
            raise ValidationError(
                {
                    "assignee": _("The assignee must belong to %(unit)s.")
                    % {"unit": action.unit.code}
                }
            )
        changes["assignee"] = (getattr(action.assignee, "username", None), assignee.username)
        action.assignee = assignee
    if not changes:
        return action
    if {"due_on", "unit"} & set(changes):
        # A new date or a new owner starts chasing afresh.
        action.chase_notices.all().delete()
        action.escalation_level = 0
    action.full_clean()
    _save(action, ["due_on", "domain", "unit", "assignee", "escalation_level"], actor)
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


@transaction.atomic
def assign_action(
    *,
    actor: User,
    action: Action,
    assignee: User | None,
    expected_version: str | None = None,
) -> Action:
    """The head of the owning unit hands an unfinished action to one of the unit's people, or
    back to the unit as a whole (no assignee). Naming the same person again changes nothing."""
    action = _locked(action)
    # Asked of the locked row: a re-plan committing meanwhile may have moved it to another unit.
    if not policy.can_assign(actor, action):
        raise PermissionDenied(_("Only the head of the owning unit may assign its actions."))
    _check_version(action, expected_version)
    if action.status in FINISHED:
        raise ValidationError(
            {
                "status": _("This action's status is “%(status)s”: it cannot be assigned.")
                % {"status": action.get_status_display()}
            }
        )
    unit = action.unit
    if assignee is not None and not (
        assignee.is_active and assignee.groups.filter(pk=unit.group_id).exists()
    ):
        raise ValidationError(
            {"assignee": _("The assignee must belong to %(unit)s.") % {"unit": unit.code}}
        )
    if getattr(assignee, "pk", None) == action.assignee_id:
        return action
    previous = action.assignee
    action.assignee = assignee
    _save(action, ["assignee"], actor)
    audit.record(
        actor=actor,
        verb="action.assigned",
        target=action,
        details={
            "unit": unit.code,
            "assignee": {
                "from": getattr(previous, "username", None),
                "to": getattr(assignee, "username", None),
            },
        },
    )
    return action


# --- Directives -----------------------------------------------------------------------------
