"""Every write to actions: create, start, submit, verify, return, cancel, update, re-plan, assign.

Each write locks the action, checks the version the client read (If-Match), applies one
rule from the act table, appends an update line, bumps the version and records the audit
event, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    F,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Concat, Left, Length, LPad, RowNumber, RTrim
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts import policy as accounts_policy
from accounts.models import BusinessUnit, User
from accounts.services import UNIT_GRANTS, grant_to_unit, revoke_from_unit, sync_unit_group
from actions import evidence, policy
from actions.models import (
    Action,
    ActionGroupObjectPermission,
    ActionUpdate,
    Directive,
    Evidence,
    Notification,
)
from actions.tasks import notify_submitted
from audit import services as audit
from config import dates, text
from config.errors import Conflict, PreconditionFailed
from config.lifecycle import next_status
from config.sql import insert_history, insert_instance, insert_select, update_with_history
from outbox import relay as outbox
from systems import criteria as system_criteria
from systems import selectors as systems_selectors
from systems.models import System

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


@transaction.atomic
def draft_directive(
    *,
    actor: User,
    title: str,
    body: str,
    deadline: dt.date,
    domain: str = "security",
    units: Sequence[BusinessUnit] = (),
    all_units: bool = False,
    criteria: dict[str, Any] | None = None,
    origin_measure: Any | None = None,
) -> Directive:
    """Write a directive addressed to chosen units, to all units, or to the systems matching
    criteria (exactly one of the three)."""
    if not policy.can_issue_directive(actor, domain):
        raise PermissionDenied(
            _("Only the office owning %(domain)s, or the chair, issues these directives.")
            % {"domain": domain}
        )
    addressed = sum([bool(units), all_units, bool(criteria)])
    if addressed != 1:
        raise ValidationError(
            {
                "units": _(
                    "Address the directive to chosen units, to all units, or to systems by criteria."
                )
            }
        )
    dates.require_due("deadline", deadline, passed=_("The deadline has already passed."))
    title = text.one_line(title)
    if not title:
        raise ValidationError({"title": _("Give the directive a title.")})
    limit = text.max_length(Directive, "title")
    if len(title) > limit:
        raise ValidationError({"title": _("At most %(limit)s characters.") % {"limit": limit}})
    clean = system_criteria.validate(criteria) if criteria else {}
    directive = Directive.objects.create(
        reference=audit.next_reference("DIR"),
        title=title,
        body=body,
        domain=domain,
        deadline=deadline,
        all_units=all_units,
        criteria=clean,
        origin_measure=origin_measure,
        created_by=actor,
    )
    if units:
        directive.units.set(units)
    audit.record(
        actor=actor, verb="directive.drafted", target=directive, details={"criteria": clean}
    )
    return directive


def _addressed_systems(directive: Directive) -> QuerySet[System] | None:
    """The systems a directive's criteria match today (None when it is addressed to units)."""
    if not directive.criteria:
        return None
    return systems_selectors.systems_matching(directive.criteria)


def _addressed_units(directive: Directive) -> QuerySet[BusinessUnit]:
    """The active units a directive is addressed to (all of them, or the chosen ones)."""
    if directive.all_units:
        return BusinessUnit.objects.filter(is_active=True)
    return directive.units.filter(is_active=True)


SYSTEM_SEPARATOR = " — "


def _system_action_title(title: str) -> Any:
    """The title of a system's action, `<directive title> — <system code>`, made to fit the
    action's title column row by row in SQL. The code is what tells one system's action from
    another's, so it stays whole; the directive's title gives way, cut with an ellipsis, where
    the two would not fit together."""
    limit = text.max_length(Action, "title")
    title = text.one_line(title)
    whole = Concat(Value(title + SYSTEM_SEPARATOR), "code", output_field=CharField())
    if len(title) + len(SYSTEM_SEPARATOR) + text.max_length(System, "code") <= limit:
        return whole  # fits with the longest code
    room = limit - len(SYSTEM_SEPARATOR)  # for the title and the code
    cut = Concat(
        RTrim(Left(Value(title), room - len(text.ELLIPSIS) - Length("code"))),
        Value(text.ELLIPSIS + SYSTEM_SEPARATOR),
        "code",
        output_field=CharField(),
    )
    return Case(
        When(LessThanOrEqual(Length("code"), room - len(title)), then=whole),
        default=cut,
        output_field=CharField(),
    )


def _targets(directive: Directive) -> QuerySet[Any]:
    """One row a target, in a stable order: the unit to task, the system (if addressed by
    criteria) and the action's title."""
    systems = _addressed_systems(directive)
    if systems is not None:
        return systems.order_by("pk").annotate(
            target_unit=F("unit_id"),
            target_system=F("pk"),
            target_title=_system_action_title(directive.title),
        )
    return (
        _addressed_units(directive)
        .order_by("pk")
        .annotate(
            target_unit=F("pk"),
            # Typed: a bare NULL is text to PostgreSQL, which a bigint column refuses.
            target_system=Cast(Value(None), output_field=BigIntegerField()),
            target_title=Value(
                text.fit(Action, "title", directive.title), output_field=CharField()
            ),
        )
    )


def _numbered(prefix: str, first: int) -> Any:
    """The reference of each target row: `prefix`-NNNN from `first` up, in the rows' order, as
    audit.reserve_references writes them (four digits at least)."""
    number = Window(RowNumber(), order_by=F("pk").asc()) + Value(first - 1)
    return Concat(
        Value(prefix),
        Case(
            When(GreaterThanOrEqual(F("number"), 10000), then=Cast("number", CharField())),
            default=LPad(Cast("number", CharField()), 4, Value("0")),
        ),
        output_field=CharField(),
    ), number


def _fan_out(*, directive: Directive, actor: User, office: str) -> tuple[int, int]:
    """Create the directive's actions, their history rows and their grants to the owning units'
    groups, the rows never loaded into Python: on PostgreSQL in one statement (`_write_fan_out`),
    elsewhere in one INSERT ... SELECT each, one more a grant. Returns how many actions were
    created, and for how many units."""
    targets = _targets(directive)
    reach = targets.aggregate(actions=Count("pk"), units=Count("target_unit", distinct=True))
    count = reach["actions"]
    if not count:
        raise ValidationError({"units": _("No unit or system matches; nothing would be tasked.")})
    units = BusinessUnit.objects.filter(pk__in=targets.values("target_unit"), group__isnull=True)
    for unit in units:
        sync_unit_group(unit=unit)  # only units never set up; none in a running installation
    year = timezone.localdate().year
    first = audit.reserve_block("ACT", count, year=year)
    reference, number = _numbered(f"ACT-{year}-", first)
    now = timezone.now()
    columns = {"reference": "reference", "title": "target_title", "unit_id": "target_unit",
               "system_id": "target_system"}  # fmt: skip
    chosen = targets.annotate(number=number, reference=reference).values(
        "reference", "target_title", "target_unit", "target_system"
    )
    filled: dict[str, Any] = {
        "description": directive.body,
        "domain": directive.domain,
        "due_on": directive.deadline,
        "directive_id": directive.pk,
        "origin_measure_id": directive.origin_measure_id,
        "issued_by_id": actor.pk,
        "issued_office": office,
        "priority": Action.Priority.NORMAL,
        "status": Action.Status.OPEN,
        "cancel_reason": "",
        "percent_done": 0,
        "escalation_level": 0,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    grants = Permission.objects.filter(
        content_type__app_label="actions",
        codename__in=[f"{grant}_action" for grant in UNIT_GRANTS],
    )
    if connection.vendor == "postgresql":
        _write_fan_out(columns, chosen, filled, grants, when=now, user_id=actor.pk)
        return count, reach["units"]
    insert_select(Action, columns, chosen, **filled)
    created = Action.objects.filter(directive=directive)
    insert_history(created, when=now, user_id=actor.pk)
    for permission in grants:
        insert_select(
            ActionGroupObjectPermission,
            {"content_object_id": "grant_object", "group_id": "grant_group"},
            created.order_by()
            .annotate(grant_object=F("pk"), grant_group=F("unit__group_id"))
            .values("grant_object", "grant_group"),
            permission_id=permission.pk,
        )
    return count, reach["units"]


def _write_fan_out(
    columns: dict[str, str],
    chosen: QuerySet[Any],
    filled: dict[str, Any],
    grants: QuerySet[Permission],
    *,
    when: dt.datetime,
    user_id: int,
) -> None:
    """The actions `chosen` (as `insert_select` takes them), their history rows and their
    grants to the units' groups in one statement: the history and the grants are made from the
    rows the insert returns, where three statements each read the new rows back (each a scan
    of thousands of fresh rows, the grants a unit lookup a row) and wait a round trip."""
    quote = connection.ops.quote_name
    history = Action.history.model
    tracked = [
        quote(str(f.column))
        for f in history._meta.concrete_fields
        if not f.name.startswith("history_")
    ]
    fields = {field.column: field for field in Action._meta.concrete_fields}
    values = [
        fields[column].get_db_prep_save(value, connection) for column, value in filled.items()
    ]
    targets = ", ".join(quote(column) for column in [*columns, *filled])
    sources = ", ".join(f"chosen.{quote(name)}" for name in columns.values())
    sources += "".join(", %s" for _ in filled)
    select_sql, select_params = chosen.query.sql_with_params()
    grants_sql, grants_params = (
        grants.order_by().annotate(permission=F("pk")).values("permission").query.sql_with_params()
    )
    unit = BusinessUnit._meta
    action_id = quote(str(Action._meta.get_field("id").column))
    unit_id = quote(str(Action._meta.get_field("unit").column))
    group_id = f"unit.{quote(str(unit.get_field('group').column))}"
    statement = (
        f"WITH written AS (INSERT INTO {quote(Action._meta.db_table)} ({targets}) "  # noqa: S608  # nosec B608 - names from models
        f"SELECT {sources} FROM ({select_sql}) chosen RETURNING {', '.join(tracked)}), "
        f"history AS (INSERT INTO {quote(history._meta.db_table)} "
        f"({', '.join(tracked)}, history_date, history_type, history_user_id) "
        f"SELECT {', '.join(tracked)}, %s, '+', %s FROM written) "
        f"INSERT INTO {quote(ActionGroupObjectPermission._meta.db_table)} "
        "(content_object_id, group_id, permission_id) "
        f"SELECT written.{action_id}, {group_id}, granted.permission FROM written "
        f"JOIN {quote(unit.db_table)} unit ON unit.{quote(str(unit.get_field('id').column))} "
        f"= written.{unit_id} "
        f"CROSS JOIN ({grants_sql}) granted "
        # In the order of the grants' unique index (group, permission, object): each grant goes
        # into the index beside the one before it, not at one of a thousand places in turn.
        f"ORDER BY {group_id}, granted.permission, written.{action_id}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*values, *select_params, when, user_id, *grants_params])


@dataclass(frozen=True)
class Reach:
    """How far issuing a directive would go: actions created, units tasked, systems named."""

    actions: int
    units: int
    systems: int


def directive_reach(directive: Directive) -> Reach:
    """The preview of `issue_directive`: the same targets, counted in one query, not loaded."""
    systems = _addressed_systems(directive)
    if systems is not None:
        counts = systems.aggregate(
            systems=Count("pk", distinct=True), units=Count("unit", distinct=True)
        )
        return Reach(actions=counts["systems"], units=counts["units"], systems=counts["systems"])
    units = _addressed_units(directive).count()
    return Reach(actions=units, units=units, systems=0)


@transaction.atomic
def issue_directive(*, actor: User, directive: Directive) -> Directive:
    """Issue it: one action per addressed unit or matching system, created set-based (a fixed
    number of queries however many), each granted to its unit's group."""
    office = policy.owning_office(actor, directive.domain)
    if office is None:
        raise PermissionDenied(_("Only the office owning this domain, or the chair, issues it."))
    directive = Directive.objects.select_for_update().get(pk=directive.pk)
    if directive.status != Directive.Status.DRAFT:
        raise Conflict(
            _("This directive's status is already “%(status)s”.")
            % {"status": directive.get_status_display()},
            code="already_issued",
        )
    count, units = _fan_out(directive=directive, actor=actor, office=office)
    directive.status = Directive.Status.ISSUED
    directive.issued_by, directive.issued_office, directive.issued_at = (
        actor,
        office,
        timezone.now(),
    )
    directive.save(
        update_fields=["status", "issued_by", "issued_office", "issued_at", "updated_at"]
    )
    audit.record(
        actor=actor,
        office=office,
        verb="directive.issued",
        target=directive,
        details={"actions": count, "units": units},
    )
    return directive


@transaction.atomic
def withdraw_directive(*, actor: User, directive: Directive, reason: str) -> Directive:
    """Withdraw it: its unfinished actions are cancelled with the reason, set-based."""
    if not policy.can_withdraw_directive(actor, directive):
        raise PermissionDenied(_("Only the office owning this domain, or the chair, withdraws it."))
    office = policy.owning_office(actor, directive.domain)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the directive is withdrawn.")})
    directive = Directive.objects.select_for_update().get(pk=directive.pk)
    if directive.status in {Directive.Status.WITHDRAWN, Directive.Status.COMPLETED}:
        raise Conflict(
            _("This directive's status is already “%(status)s”.")
            % {"status": directive.get_status_display()},
            code="finished",
        )
    # Locked, so a verification committing meanwhile is seen, not overwritten.
    unfinished = list(
        Action.objects.select_for_update().filter(directive=directive).open().order_by("pk")
    )
    for action in unfinished:
        action.status = A.CANCELLED
        action.cancel_reason = f"Directive {directive.reference} withdrawn: {reason.strip()}"
        action.version += 1
    bulk_update_with_history(
        unfinished,
        Action,
        ["status", "cancel_reason", "version"],
        batch_size=2000,
        default_user=actor,
    )
    directive.status = Directive.Status.WITHDRAWN
    directive.withdrawn_at, directive.withdraw_reason = timezone.now(), reason.strip()
    directive.save(update_fields=["status", "withdrawn_at", "withdraw_reason", "updated_at"])
    audit.record(
        actor=actor,
        office=office,
        verb="directive.withdrawn",
        target=directive,
        details={"cancelled_actions": len(unfinished), "reason": reason.strip()},
    )
    return directive


def _complete_directive_if_done(directive_id: int) -> None:
    """A directive is completed when every action it created is finished and at least one was
    verified. The directive row is locked first, so two last verifications cannot both miss it."""
    directive = (
        Directive.objects.select_for_update()
        .filter(pk=directive_id, status=Directive.Status.ISSUED)
        .first()
    )
    if directive is None:
        return
    actions = Action.objects.filter(directive_id=directive_id)
    if actions.open().exists() or not actions.filter(status=A.VERIFIED).exists():
        return
    directive.status = Directive.Status.COMPLETED
    directive.save(update_fields=["status", "updated_at"])
    audit.record(actor=None, verb="directive.completed", target=directive)


def mark_notification_read(*, actor: User, notification: Notification) -> Notification:
    """The recipient marks a notification read (idempotent; nobody else may)."""
    if notification.recipient_id != actor.pk:
        raise PermissionDenied(_("Only the recipient may mark a notification read."))
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        notification.refresh_from_db(fields=["read_at"])
    return notification
