"""Directives: drafted, issued to every unit or system they address, withdrawn, completed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
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
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts.models import BusinessUnit, User
from accounts.services import UNIT_GRANTS, sync_unit_group
from actions import policy
from actions.models import (
    Action,
    ActionGroupObjectPermission,
    Directive,
)
from audit import services as audit
from config import dates, text
from config.errors import Conflict
from config.sql import insert_history, insert_select, tracked_fields
from systems import criteria as system_criteria
from systems import selectors as systems_selectors
from systems.models import System

A = Action.Status


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
    tracked = [quote(str(f.column)) for f in tracked_fields(Action)]
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
