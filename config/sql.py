"""Set-based SQL (INSERT ... SELECT from a queryset, rows in few statements) and the locks that
keep writers, and runs, of one kind apart."""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, models
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=models.Model)

ROWS_A_STATEMENT = 1000  # under SQLite's 32,766 parameters for any table we write this way


def insert_select(
    model: type[models.Model],
    columns: dict[str, str],
    select: models.QuerySet[Any],
    *,
    ignore_conflicts: bool = False,
    **filled: Any,
) -> list[Any]:
    """INSERT INTO model's table (columns) SELECT ... FROM (select), and return the first
    column of every row written.

    `columns` maps a column of the table to the annotation of `select` that fills it (by its
    alias: a plain field has no name of its own in a subquery on every database);
    `filled` gives the remaining columns one value each. The ORM builds the SELECT (filters,
    joins, annotations, the same on SQLite and PostgreSQL), and the database copies the rows.
    With `ignore_conflicts`, a row that breaks a unique constraint is skipped (ON CONFLICT DO
    NOTHING): how a set of claims is made at most once."""
    sql, params = select.query.sql_with_params()
    # Each value as its field would save it (a datetime on SQLite is text of one exact form).
    fields = {field.column: field for field in model._meta.concrete_fields}
    values = [
        fields[column].get_db_prep_save(value, connection) if column in fields else value
        for column, value in filled.items()
    ]
    quote = connection.ops.quote_name
    targets = ", ".join(quote(c) for c in [*columns, *filled])
    sources = ", ".join(f"chosen.{quote(name)}" for name in columns.values())
    sources += "".join(", %s" for _ in filled)
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({targets}) "  # noqa: S608  # nosec B608 - names from models
        f"SELECT {sources} FROM ({sql}) chosen WHERE TRUE{conflict} "
        f"RETURNING {quote(next(iter(columns)))}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*values, *params])  # the values come first in the text
        return [row[0] for row in cursor.fetchall()]


def tracked_fields(model: type[models.Model]) -> list[Any]:
    """The fields simple-history copies from a record into its history rows (the history
    model's own, history_id, history_date and the like, left out)."""
    history = model.history.model  # type: ignore[attr-defined]  # simple-history adds it
    return [f for f in history._meta.concrete_fields if not f.name.startswith("history_")]


def insert_history(
    select: models.QuerySet[Any], *, when: dt.datetime, user_id: int | None, kind: str = "+"
) -> list[Any]:
    """The simple-history rows of `select`'s records as they stand (created, by default), in
    one INSERT ... SELECT: what bulk_create_with_history writes, without loading the rows."""
    history = select.model.history.model
    tracked = [f.attname for f in tracked_fields(select.model)]
    return insert_select(
        history,
        {name: f"h_{name}" for name in tracked},
        select.order_by()
        .annotate(**{f"h_{name}": F(name) for name in tracked})
        .values(*(f"h_{name}" for name in tracked)),
        history_date=when,
        history_type=kind,
        history_user_id=user_id,
    )


def the_rest(model: type[models.Model], columns: Sequence[str]) -> dict[str, Any]:
    """Every other column of the model's table (but the id) with its field's default, as
    Django would fill it: the database knows none of Django's defaults."""
    now = timezone.now()
    rest: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        column = str(field.column)
        if field.primary_key or column in columns:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            rest[column] = now
        elif field.has_default():
            rest[column] = field.get_default()
        else:
            rest[column] = None if field.null else ""
    return rest


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """`count` ids taken from the table's sequence at once, for rows written with their ids
    (so nothing is read back); None where there is no sequence to take from (SQLite)."""
    if connection.vendor != "postgresql" or count <= 0:
        return None if connection.vendor != "postgresql" else []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Rows into the model's table as `insert_rows` writes them, by COPY on PostgreSQL: no
    statement to plan and the values encoded in C, the way a hundred thousand rows of one
    import go in. Elsewhere, `insert_rows`. Returns how many rows were written."""
    if connection.vendor != "postgresql":
        return insert_rows(model, columns, rows)
    by_column = {field.column: field for field in model._meta.concrete_fields}
    rest = the_rest(model, columns)
    given = [by_column[column] for column in columns]
    same = [by_column[column].get_db_prep_save(value, connection) for column, value in rest.items()]
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(column)) for column in [*columns, *rest])
    written = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, in the connection's transaction
        with raw.copy(
            f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"  # nosec B608 - names from models
        ) as copy:
            for row in rows:
                copy.write_row(
                    [
                        *(_prepared(field, value) for field, value in zip(given, row, strict=True)),
                        *same,
                    ]
                )
                written += 1
    return written


def _prepared(field: models.Field[Any, Any], value: Any) -> Any:
    """A value as its field saves it. Ints, text, booleans and NULL go as they are: preparing
    each of them costs more than the insert of thousands of rows does, for the same value."""
    if value is None or type(value) in (int, str, bool):
        return value
    return field.get_db_prep_save(value, connection)


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """INSERT INTO model's table (columns) many rows a statement, with no model instance a row.
    Each value is prepared as its field saves it (`_prepared`); the columns not given take
    their defaults.
    On PostgreSQL the rows go as one array a column (UNNEST, as Django's bulk_create sends
    them: a statement of thousands of parameters takes longer to plan than to run). Returns
    how many rows were written."""
    by_column = {field.column: field for field in model._meta.concrete_fields}
    rest = the_rest(model, columns)
    targets = [by_column[column] for column in [*columns, *rest]]
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # nosec B608 - names from models
        f"({', '.join(quote(str(field.column)) for field in targets)}) "
    )
    given = targets[: len(columns)]
    same = [  # the defaults, prepared once for every row
        field.get_db_prep_save(value, connection)
        for field, value in zip(targets[len(columns) :], rest.values(), strict=True)
    ]
    prepared = [
        [*(_prepared(field, value) for field, value in zip(given, row, strict=True)), *same]
        for row in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and prepared:
            types = [str(field.db_type(connection)).split("(")[0] for field in targets]
            arrays = ", ".join(f"%s::{db_type}[]" for db_type in types)
            columns_of_values = [list(column) for column in zip(*prepared, strict=True)]
            statement = f"{head}SELECT * FROM UNNEST({arrays})"  # noqa: S608  # nosec B608
            cursor.execute(statement, columns_of_values)
            return len(prepared)
        one = "(" + ", ".join("%s" for _ in targets) + ")"
        for start in range(0, len(prepared), ROWS_A_STATEMENT):
            batch = prepared[start : start + ROWS_A_STATEMENT]
            cursor.execute(
                f"{head}VALUES {', '.join(one for _ in batch)}", [v for row in batch for v in row]
            )
    return len(prepared)


_INSERTS: dict[tuple[type[models.Model], str], tuple[str, list[models.Field[Any, Any]], bool]] = {}


def insert_instance(instance: M) -> M:
    """A new model instance written as `save(force_insert=True)` writes it (each field's
    `pre_save` and `get_db_prep_save`, the new id set on it), by one INSERT whose text is made
    once per model: the ORM compiles a statement anew on every save, which costs more than
    running it. No signals are sent: only for models nothing listens to (audit events, action
    updates)."""
    model = type(instance)
    key = (model, connection.vendor)
    if key not in _INSERTS:
        quote = connection.ops.quote_name
        fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
        returns = bool(connection.features.can_return_columns_from_insert)
        returning = f" RETURNING {quote(str(model._meta.pk.column))}" if returns else ""
        _INSERTS[key] = (
            f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608  # nosec B608 - names from models
            f"({', '.join(quote(str(f.column)) for f in fields)}) "
            f"VALUES ({', '.join('%s' for _ in fields)}){returning}",
            fields,
            returns,
        )
    statement, fields, returns = _INSERTS[key]
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        new_id = cursor.fetchone()[0] if returns else cursor.lastrowid
    instance.pk = new_id
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


_UPDATES: dict[tuple[type[models.Model], tuple[str, ...], str], tuple[list[Any], list[str]]] = {}


def _update_statements(
    model: type[models.Model], fields: tuple[str, ...]
) -> tuple[list[Any], list[str]]:
    """update_with_history's fields and statements for a model and the fields it changes."""
    quote = connection.ops.quote_name
    changed = [model._meta.get_field(name) for name in fields]
    history = model.history.model  # type: ignore[attr-defined]  # simple-history adds it
    tracked = ", ".join(quote(str(f.column)) for f in tracked_fields(model))
    table, pk = quote(model._meta.db_table), quote(str(model._meta.pk.column))
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in changed)  # type: ignore[union-attr]
    record = (
        f"INSERT INTO {quote(history._meta.db_table)} ({tracked}, history_date, "  # noqa: S608  # nosec B608
        "history_change_reason, history_type, history_user_id) "
        f"SELECT {tracked}, %s, NULL, '~', %s FROM "
    )
    if connection.vendor == "postgresql":
        statements = [
            f"WITH written AS (UPDATE {table} SET {assignments} WHERE {pk} = %s "  # noqa: S608  # nosec B608
            f"RETURNING {tracked}) {record}written"
        ]
    else:
        statements = [
            f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608  # nosec B608
            f"{record}{table} WHERE {pk} = %s",
        ]
    return changed, statements


def update_with_history(
    instance: models.Model, fields: Sequence[str], *, user_id: int | None
) -> None:
    """`instance.save(update_fields=fields)` and the simple-history row it leaves ("~", changed,
    by `user_id`), by statements made once per model and fields (one on PostgreSQL: the history
    row is made from the row the update returns): what the ORM and simple-history's signal
    write, without compiling either, for the writes people make most."""
    key = (type(instance), tuple(fields), connection.vendor)
    if key not in _UPDATES:
        _UPDATES[key] = _update_statements(type(instance), tuple(fields))
    changed, statements = _UPDATES[key]
    values = [f.get_db_prep_save(f.pre_save(instance, False), connection) for f in changed]
    when = _MOMENT.get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cursor:
        if len(statements) == 1:
            cursor.execute(statements[0], [*values, instance.pk, when, user_id])
        else:
            cursor.execute(statements[0], [*values, instance.pk])
            cursor.execute(statements[1], [when, user_id, instance.pk])


_MOMENT = models.DateTimeField()


def hold_lock(key: int, *, shared: bool = False) -> None:
    """A PostgreSQL advisory lock held until the transaction ends: writers of one kind take it
    shared and run side by side; the one that must not overlap any of them takes it alone and
    waits for them. SQLite writes one transaction at a time already: nothing to do there."""
    if connection.vendor != "postgresql":
        return
    take = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {take}(%s)", [key])


@contextmanager
def run_alone(key: int) -> Iterator[bool]:
    """Whether this is the only run of its kind now, held across the run's many transactions
    and taken without waiting: a second run is told False at once rather than queued.

    On PostgreSQL a session advisory lock: a run whose worker dies loses it with its connection
    (so the worker's connections must be direct or session-pooled, not PgBouncer's transaction
    pooling, which could hand the unlock to another server connection). On SQLite, whose
    processes share one file, an exclusive lock on a file beside it, which the operating system
    drops with the process that held it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            alone = bool(cursor.fetchone()[0])
        try:
            yield alone
        finally:
            if alone:
                _advisory_unlock(key)
        return
    with open(_lock_file(key), "a") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


def _lock_file(key: int) -> Path:
    """Beside the database file, so runs against one database exclude each other and runs
    against another (a test worker's) do not; in VAR_DIR for a database in memory."""
    name = str(connection.settings_dict["NAME"])
    if name.startswith("file:") or ":memory:" in name or "mode=memory" in name:
        return Path(settings.VAR_DIR) / f"run-alone-{key:x}.lock"
    return Path(f"{name}.run-alone-{key:x}.lock")


def _advisory_unlock(key: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            released = bool(cursor.fetchone()[0])
    except DatabaseError:
        # The connection broke (or its transaction was aborted): drop it, so the session that
        # holds the lock ends with it instead of going back for reuse.
        logger.warning("could not release run lock %x; closing the connection", key)
        connection.close()
        return
    if not released:
        logger.warning("run lock %x was not held by this session at its end", key)
