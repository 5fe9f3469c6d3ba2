"""Who holds which office and role now: the questions every app's policy is built on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import BooleanField, Exists, Func, Model, OuterRef, Q
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django.utils import timezone
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from accounts.models import BusinessUnit, Delegation, Membership, Office, OfficeCode, Role, User
from accounts.request_memo import remembered, remembering

if TYPE_CHECKING:
    from django.db.models import QuerySet

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class HeldOffice:
    """An office a person holds at a moment: as its holder, or acting for it until `until`."""

    code: str
    name: str
    capacity: str  # "holder" or "acting"
    until: datetime | None = None


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def offices_held(user: Any, *, at: datetime | None = None) -> list[HeldOffice]:
    """Every office the user holds at `at` (now by default), in one statement."""
    if not _signed_in(user):
        return []
    if at is None and remembering():
        found = remembered(("offices", user.pk), lambda: offices_held(user, at=timezone.now()))
        return list(found)
    rows = _office_rows(user, at or timezone.now())
    held = [
        HeldOffice(code=code, name=name, capacity="holder")
        for code, name, capacity, _ends, _revoked in rows
        if capacity == "holder"
    ]
    codes = {h.code for h in held}
    # Overlapping delegations of one office: the person acts until the last of them ends.
    acting: dict[str, HeldOffice] = {}
    for code, name, capacity, ends_at, revoked_at in rows:
        if capacity == "holder" or code in codes:
            continue
        until = ends_at if revoked_at is None else min(ends_at, revoked_at)
        if code not in acting or (acting[code].until or until) < until:
            acting[code] = HeldOffice(code=code, name=name, capacity="acting", until=until)
    held.extend(acting.values())
    return sorted(held, key=lambda h: h.code)


def _office_rows(user: Any, moment: datetime) -> list[tuple[str, str, str, Any, Any]]:
    """(code, name, "holder" or "acting", ends, revoked) of the offices the person holds and the
    delegations in force at `moment` (what DelegationQuerySet.active says): one plain statement,
    asked on every page by the layout, where two ORM queries cost more to build than to run."""
    office, delegation = Office._meta.db_table, Delegation._meta.db_table
    statement = (
        f"SELECT o.code, o.name, 'holder', NULL, NULL FROM {office} o WHERE o.holder_id = %s "  # noqa: S608  # nosec B608
        f"UNION ALL SELECT o.code, o.name, 'acting', d.ends_at, d.revoked_at FROM {delegation} d "
        f"JOIN {office} o ON o.id = d.office_id WHERE d.delegate_id = %s AND d.starts_at <= %s "
        "AND d.ends_at > %s AND (d.revoked_at IS NULL OR d.revoked_at > %s)"
    )
    at = connection.ops.adapt_datetimefield_value(moment)
    with connection.cursor() as cursor:
        cursor.execute(statement, [user.pk, user.pk, at, at, at])
        rows = cursor.fetchall()
    # The moments as the ORM hands them over (SQLite keeps text; both made aware).
    column = Delegation._meta.get_field("ends_at").get_col(delegation)
    convert = connection.ops.get_db_converters(column)

    def moment_of(value: Any) -> Any:
        for converter in convert:
            value = converter(value, column, connection)
        return value

    return [
        (code, name, capacity, moment_of(ends), moment_of(revoked))
        for code, name, capacity, ends, revoked in rows
    ]


def holds_office(user: Any, code: str, *, at: datetime | None = None) -> bool:
    """Does the user hold (or act for) the office `code` at `at`?"""
    return office_capacity(user, code, at=at) is not None


def office_capacity(user: Any, code: str, *, at: datetime | None = None) -> str | None:
    """'holder', 'acting', or None: in what capacity the user holds the office at `at`.
    Holders are today's (the history of holders is in the office's history); `at` moves
    the delegation window only."""
    if not _signed_in(user):
        return None
    if at is None and remembering():  # the offices read once for the request
        return next((h.capacity for h in offices_held(user) if h.code == code), None)
    if Office.objects.filter(code=code, holder=user).exists():
        return "holder"
    moment = at or timezone.now()
    if Delegation.objects.active(moment).filter(office__code=code, delegate=user).exists():
        return "acting"
    return None


def acting_office(user: Any, *codes: str, at: datetime | None = None) -> str | None:
    """The first of `codes` the user holds now: the office an authority act is recorded under."""
    held = {h.code for h in offices_held(user, at=at)}
    return next((code for code in codes if code in held), None)


def has_role(user: Any, role: Role | str) -> bool:
    if not _signed_in(user):
        return False
    name = str(role)
    if remembering():  # every role asked of a page answered from one read of them all
        return name in remembered(
            ("roles", user.pk), lambda: set(user.groups.values_list("name", flat=True))
        )
    return user.groups.filter(name=name).exists()


def role_names(user: Any) -> list[str]:
    if not _signed_in(user):
        return []
    # Only role groups: a unit's own group ("unit:PUBSEC") is membership, not a role.
    return sorted(user.groups.filter(name__in=Role.values).values_list("name", flat=True))


def units_of(user: Any) -> QuerySet[BusinessUnit]:
    """The business units a person belongs to (as member or head). The memberships as a
    subquery, not a join: joined, the OR with the head kept PostgreSQL from using either index
    and it read every membership of the company (4 ms on each page that asks)."""
    if not _signed_in(user):
        return BusinessUnit.objects.none()
    mine = Membership.objects.filter(user=user).values("unit")
    return BusinessUnit.objects.filter(Q(pk__in=mine) | Q(head=user))


def is_chair(user: Any, *, at: datetime | None = None) -> bool:
    return holds_office(user, OfficeCode.CEO, at=at)


def can_read_audit_trail(user: Any) -> bool:
    """Auditors, the chair, the CISO and the CQO read the audit trail."""
    if not _signed_in(user):
        return False
    if user.is_superuser:
        return True
    # Auditors and the three offices are among those who read everything: a page has asked
    # that already (remembered), so for a unit's people the layout's question costs nothing.
    if not reads_everything(user):
        return False
    if has_role(user, Role.AUDITOR):
        return True
    return acting_office(user, OfficeCode.CEO, OfficeCode.CISO, OfficeCode.CQO) is not None


def can_delegate(user: Any, office: Office) -> bool:
    """The office's own holder, the CEO in person, or an admin may delegate it. An acting
    delegate may not delegate further: an acting CEO could otherwise extend their own term."""
    if not _signed_in(user):
        return False
    return bool(
        user.is_superuser
        or office.holder_id == user.pk
        or office_capacity(user, OfficeCode.CEO) == "holder"
    )


def can_assign_office(user: Any, office: Office) -> bool:
    """Who holds an office is decided by the board; in the product, only admins record it."""
    return _signed_in(user) and bool(user.is_superuser)


def has_mfa(user: Any) -> bool:
    """Has the person enrolled an authenticator app (TOTP)?"""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


OVERSIGHT_ROLES = [Role.CHAIR, Role.CXO, Role.AUDITOR, Role.SECRETARY]


def reads_everything(user: Any) -> bool:
    """Committee members, the secretariat, auditors and the CEO/CISO/CQO (held or acting) read
    every unit's cases, systems and actions; everyone else sees their own units' only.

    Asked on every list, record and page, so it is one plain statement rather than an ORM
    query whose building costs more than running it. It says what has_role, holds_office and
    DelegationQuerySet.active say (tests/accounts/test_policy.py holds them to it)."""
    if not _signed_in(user):
        return False
    if user.is_superuser:
        return True
    return remembered(("reads_everything", user.pk), lambda: _reads_everything_now(user))


def _reads_everything_now(user: Any) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_READS_EVERYTHING, _reads_everything_params(user))
        return bool(cursor.fetchone()[0])


def _reads_everything_sql() -> str:
    """The statement, with table names from the models and every value a parameter."""
    roles = ", ".join(["%s"] * len(OVERSIGHT_ROLES))
    codes = "%s, %s, %s"
    member, group = User.groups.through._meta.db_table, Group._meta.db_table
    office, delegation = Office._meta.db_table, Delegation._meta.db_table
    parts = [
        f"SELECT 1 FROM {member} m JOIN {group} g ON g.id = m.group_id "  # noqa: S608  # nosec B608
        f"WHERE m.user_id = %s AND g.name IN ({roles})",
        f"SELECT 1 FROM {office} o WHERE o.holder_id = %s AND o.code IN ({codes})",  # noqa: S608  # nosec B608
        f"SELECT 1 FROM {delegation} d JOIN {office} o ON o.id = d.office_id "  # noqa: S608  # nosec B608
        f"WHERE d.delegate_id = %s AND o.code IN ({codes}) AND d.starts_at <= %s "
        "AND d.ends_at > %s AND (d.revoked_at IS NULL OR d.revoked_at > %s)",
    ]
    return " OR ".join(f"EXISTS ({part})" for part in parts)


_READS_EVERYTHING_IF = _reads_everything_sql()
_READS_EVERYTHING = "SELECT " + _READS_EVERYTHING_IF


def _reads_everything_params(user: Any) -> list[Any]:
    roles = [str(r) for r in OVERSIGHT_ROLES]
    codes = [str(c) for c in (OfficeCode.CEO, OfficeCode.CISO, OfficeCode.CQO)]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return [user.pk, *roles, user.pk, *codes, user.pk, *codes, now, now, now]


def holds_grant(user: Any, obj: Model, grant: str = "change") -> bool:
    """Does django-guardian grant `grant` on this record to the person, through one of their
    groups (their unit's, as a rule) or to them alone? What `user.has_perm(perm, obj)` answers
    for a non-superuser, in one short query in the usual case instead of two; in none when the
    record was read with the answer (lock_with_grant)."""
    if not _signed_in(user):
        return False
    read = getattr(obj, "_grant_read", None)
    if read is not None and read[:3] == (user.pk, grant, obj.pk):
        return bool(read[3])
    model = type(obj)
    content_type = ContentType.objects.get_for_model(model)
    permission = _permission_id(content_type, f"{grant}_{model._meta.model_name}")
    group_grants, person_grants = _grant_models(model)
    through_group = group_grants.objects.filter(
        content_object_id=obj.pk, permission_id=permission, group__user=user
    )
    if through_group.exists():
        return True
    return person_grants.objects.filter(
        content_object_id=obj.pk, permission_id=permission, user_id=user.pk
    ).exists()


def _locking_read(model: type[Model]) -> tuple[str, list[str], list[tuple[Any, list[Any]]]]:
    """The text of lock_with_grant's statement for a model, and the attributes its columns fill:
    made once per model, since compiling it through the ORM (two EXISTS subqueries) costs more
    than running it."""
    quote = connection.ops.quote_name
    group_grants, person_grants = _grant_models(model)
    member = User.groups.through._meta
    fields = list(model._meta.concrete_fields)
    table, pk = quote(model._meta.db_table), quote(str(model._meta.pk.column))
    lock = ""
    if connection.features.has_select_for_update:
        lock = f" FOR UPDATE OF {table}" if connection.features.has_select_for_update_of else ""
        lock = lock or " FOR UPDATE"
    statement = (
        f"SELECT {', '.join(f'{table}.{quote(str(f.column))}' for f in fields)}, "  # noqa: S608  # nosec B608 - names from models
        f"(EXISTS (SELECT 1 FROM {quote(group_grants._meta.db_table)} g "
        f"JOIN {quote(member.db_table)} m ON m.group_id = g.group_id "
        f"WHERE g.content_object_id = {table}.{pk} AND g.permission_id = %s AND m.user_id = %s) "
        f"OR EXISTS (SELECT 1 FROM {quote(person_grants._meta.db_table)} p "
        f"WHERE p.content_object_id = {table}.{pk} AND p.permission_id = %s "
        f"AND p.user_id = %s)) FROM {table} WHERE {table}.{pk} = %s{lock}"
    )
    # Each column's value as the ORM would hand it to the model (SQLite's text datetimes made
    # aware, and the like): the converters its compiler applies.
    converters = []
    for f in fields:
        column = f.get_col(model._meta.db_table)
        converters.append(
            (column, connection.ops.get_db_converters(column) + f.get_db_converters(connection))
        )
    return statement, [f.attname for f in fields], converters


_locking_reads: dict[
    tuple[type[Model], str], tuple[str, list[str], list[tuple[Any, list[Any]]]]
] = {}


def lock_with_grant(model: type[M], pk: Any, user: Any, grant: str = "change") -> M | None:
    """The record `pk` of `model`, locked for the transaction, with holds_grant's answer for the
    person riding on the same statement (a write that locks the record anyway asks nothing more
    of the database); None when there is no such record."""
    key = (model, connection.vendor)
    if key not in _locking_reads:
        _locking_reads[key] = _locking_read(model)
    statement, names, converters = _locking_reads[key]
    content_type = ContentType.objects.get_for_model(model)
    permission = _permission_id(content_type, f"{grant}_{model._meta.model_name}")
    user_id = user.pk if _signed_in(user) else None
    with connection.cursor() as cursor:
        cursor.execute(statement, [permission, user_id, permission, user_id, pk])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for read, (column, convert) in zip(row, converters, strict=False):
        value = read
        for converter in convert:
            value = converter(value, column, connection)
        values.append(value)
    found = model.from_db(connection.alias, names, values)
    if user_id is not None:
        found._grant_read = (user_id, grant, found.pk, bool(row[-1]))  # type: ignore[attr-defined]
    return found


def belongs_to(user: Any, unit: BusinessUnit) -> bool:
    """Is the person the unit's head or one of its members?"""
    if not _signed_in(user):
        return False
    return unit.head_id == user.pk or unit.memberships.filter(user=user).exists()


class _PerRow(Func):
    """`(EXISTS (...)) IS TRUE`: the same truth, but PostgreSQL checks it row by row as it walks
    an index in the list's order and stops at the page's end, instead of turning it into a join
    over everything the subquery could match."""

    template = "(%(expressions)s) IS TRUE"
    output_field = BooleanField()
    conditional = True


def _grant_models(model: type[Model]) -> tuple[Any, Any]:
    """django-guardian's direct-foreign-key grant models of a model: to groups, to persons."""
    target: Any = model  # guardian takes a model or an instance; its stubs say instance
    return get_group_obj_perms_model(target), get_user_obj_perms_model(target)


_permission_ids: dict[tuple[int, str], int] = {}


def _permission_id(content_type: ContentType, codename: str) -> int:
    """A permission's id, looked up once per process (ids change only when permissions are
    created anew, which post_migrate announces: see _forget_permission_ids)."""
    key = (content_type.pk, codename)
    if key not in _permission_ids:
        _permission_ids[key] = Permission.objects.get(
            content_type=content_type, codename=codename
        ).pk
    return _permission_ids[key]


@receiver(post_migrate)
def _forget_permission_ids(**kwargs: Any) -> None:
    _permission_ids.clear()


def _scope_facts(
    user: Any, model: type[Model], permission: int, *, everything: bool = False
) -> list[tuple[str, int, int]]:
    """("unit", unit id, its group id) for each unit whose group the person is in, and
    ("record", id, 0) for each record granted to the person alone: one plain statement, for
    the same reason as reads_everything. With `everything`, the same statement also says
    ("all", 0, 0) first when the person reads everything (reads_everything's question)."""
    _group_grants, person_grants = _grant_models(model)
    unit, member = BusinessUnit._meta.db_table, User.groups.through._meta.db_table
    statement = (
        f"SELECT 'unit', u.id, u.group_id FROM {unit} u JOIN {member} m ON m.group_id = u.group_id "  # noqa: S608  # nosec B608
        "WHERE m.user_id = %s "
        f"UNION ALL SELECT 'record', g.content_object_id, 0 FROM {person_grants._meta.db_table} g "
        "WHERE g.user_id = %s AND g.permission_id = %s"
    )
    params: list[Any] = [user.pk, user.pk, permission]
    if everything:
        statement = f"SELECT 'all', 0, 0 WHERE {_READS_EVERYTHING_IF} UNION ALL {statement}"
        params = [*_reads_everything_params(user), *params]

    def ask() -> list[tuple[str, int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return [(str(kind), int(pk), int(group)) for kind, pk, group in cursor.fetchall()]

    key = ("scope", user.pk, model._meta.label, permission, everything)
    return list(remembered(key, ask))


def visible(user: Any, model: type[M], grant: str = "view") -> QuerySet[M]:
    """Every record of a unit-owned model for those who read everything (reads_everything),
    else the records granted to the person (granted): asked on every list, record and write, so
    both questions are one statement."""
    if not _signed_in(user):
        return model._default_manager.none()
    if user.is_superuser:
        return model._default_manager.all()
    content_type = ContentType.objects.get_for_model(model)
    permission = _permission_id(content_type, f"{grant}_{model._meta.model_name}")
    found = _scope_facts(user, model, permission, everything=True)
    # The statement answered reads_everything too: the rest of a request need not ask it again.
    everything = any(kind == "all" for kind, _pk, _group in found)
    if remembered(("reads_everything", user.pk), lambda: everything):
        return model._default_manager.all()
    return _granted_by(found, model, permission)


def granted(user: Any, model: type[M], grant: str = "view") -> QuerySet[M]:
    """The records of a unit-owned model that django-guardian grants `grant` to the person.

    Grants go to the owning unit's group (accounts.services.grant_to_unit), so a group grant is
    looked for only among the records of the units whose group the person is in. The units are
    named in the query and each row's grant is checked as the row is read (`_PerRow`), so a
    page of a list costs the same at a hundred records a unit or at a million, instead of
    reading every grant the group holds (guardian's get_objects_for_user). A grant to the
    person alone (one record of another unit) adds that record by id. One query finds the
    units and those records."""
    if not _signed_in(user):
        return model._default_manager.none()
    content_type = ContentType.objects.get_for_model(model)
    permission = _permission_id(content_type, f"{grant}_{model._meta.model_name}")
    return _granted_by(_scope_facts(user, model, permission), model, permission)


def _granted_by(found: list[tuple[str, int, int]], model: type[M], permission: int) -> QuerySet[M]:
    unit_ids = sorted({pk for kind, pk, _group in found if kind == "unit"})
    group_ids = sorted({group for kind, _pk, group in found if kind == "unit"})
    records = sorted({pk for kind, pk, _group in found if kind == "record"})
    group_grants = _grant_models(model)[0].objects.filter(
        content_object_id=OuterRef("pk"), group_id__in=group_ids, permission_id=permission
    )
    mine = Q(unit_id__in=unit_ids) & Q(_PerRow(Exists(group_grants)))
    return model._default_manager.filter(mine | Q(pk__in=records) if records else mine)


def decision_authorizes(decision: Any, effect: str) -> bool:
    """A committee decision is authority for its own effect only: approved, with that effect,
    at a meeting whose record is still open. (Read by attribute: the kernel knows no committee.)"""
    return bool(
        decision is not None
        and decision.outcome == "approved"
        and decision.effect == effect
        and not decision.meeting.is_locked
    )
