"""Oversight's dashboard counts open incidents and live risks from indexes, not whole tables."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]


def scans(plan: dict[str, Any]) -> list[str]:
    """Each read in a plan, as "<node> [on <table>] [using <index>]"."""
    found = []
    if "Relation Name" in plan or "Index Name" in plan:
        table = f" on {plan['Relation Name']}" if "Relation Name" in plan else ""
        index = f" using {plan['Index Name']}" if "Index Name" in plan else ""
        found.append(f"{plan['Node Type']}{table}{index}")
    for child in plan.get("Plans", []):
        found += scans(child)
    return found


def planned_scans(sql: str, params: Any) -> list[str]:
    """The reads PostgreSQL plans when it may not read a table whole unless no index serves:
    planned on a forced setting, not on rows, so this holds on an empty test database."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            return scans(cursor.fetchone()[0][0]["Plan"])
        finally:
            cursor.execute("RESET enable_seqscan")


@pytest.mark.parametrize(
    ("table", "index"),
    [("cases_incident", "incident_open_idx"), ("cases_risk", "risk_heatmap_idx")],
)
def test_oversight_counts_from_the_index_alone(
    login_as: Any, ciso: User, table: str, index: str
) -> None:
    client = login_as(ciso)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    counts = [
        (q["sql"], None)
        for q in captured.captured_queries
        if f'FROM "{table}"' in q["sql"] and "COUNT(*)" in q["sql"] and "GROUP BY" in q["sql"]
    ]
    assert counts, f"the dashboard no longer counts {table} by group"
    for sql, params in counts:
        found = planned_scans(sql, params)
        # From the index alone once the table is vacuumed (as at scale); through it, on a new
        # table whose pages are not yet known all-visible. Never the whole table.
        assert found in (
            [f"Index Only Scan on {table} using {index}"],
            [f"Bitmap Heap Scan on {table}", f"Bitmap Index Scan using {index}"],
        ), found
