"""INSERT ... SELECT from a queryset: set-based writes whose rows never pass through Python."""

from __future__ import annotations

from typing import Any

from django.db import connection, models


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
