"""Tests generated from the authorization matrix, and a completeness check over the URL map."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.authz.matrix import OK, ROLES, ROUTE_METHODS, ROWS, STATUS_CLASSES, Row, World


def _params() -> list[Any]:
    # No expected failures: a disagreement with DESIGN.md is fixed, not marked.
    return [pytest.param(row, role, id=f"{row.id}-{role}") for row in ROWS for role in ROLES]


def send(client: Client, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    data = json.dumps(body) if body is not None else ""
    return client.generic(
        method,
        url,
        data,
        content_type="application/json",
        headers={"Accept": "application/json", **headers},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "role"), _params())
def test_matrix(row: Row, role: str, world: World, login_as) -> None:
    request = row.setup(world, row.scope)
    client = Client() if role == "anonymous" else login_as(world.users[role])
    before = request.snapshot() if row.is_write else None
    response = send(client, row.method, request.url, request.body, request.headers)
    expected = row.expected[role]
    assert STATUS_CLASSES[expected](response.status_code), (
        f"{row.id} as {role}: expected {expected}, got {response.status_code} "
        f"{response.content[:300]!r}"
    )
    if row.is_write and expected != OK:
        assert request.snapshot() == before, f"{row.id} as {role}: refused, yet the data changed"


def api_routes() -> set[tuple[str, str, str]]:
    """Every (pattern, name, method) under api/v1/ in the URL map."""
    found: set[tuple[str, str, str]] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                pattern = prefix + str(entry.pattern)
                if not pattern.startswith("api/v1/"):
                    continue
                actions = getattr(entry.callback, "actions", None)
                view_class = getattr(entry.callback, "view_class", None)
                if actions:
                    methods = [m.upper() for m in actions]
                elif view_class is not None:
                    methods = [
                        m.upper()
                        for m in view_class.http_method_names
                        if hasattr(view_class, m) and m not in {"options", "head"}
                    ]
                else:
                    methods = ["GET"]
                for method in methods:
                    # DRF serves HEAD with the GET handler (and adds "head" to a viewset's
                    # actions on its first request): the GET row covers it.
                    found.add((pattern, entry.name or "", "GET" if method == "HEAD" else method))

    walk(get_resolver().url_patterns, "")
    return found


def test_every_api_route_has_a_row() -> None:
    missing = sorted(
        f"{method} {pattern} ({name})"
        for pattern, name, method in api_routes()
        if (name, method) not in ROUTE_METHODS
    )
    assert not missing, "routes with no row in the matrix:\n" + "\n".join(missing)


def test_rows_name_every_role_and_real_routes() -> None:
    names = {(name, method) for _p, name, method in api_routes()}
    for row in ROWS:
        assert set(row.expected) == set(ROLES), row.id
        assert (row.name, row.method) in names, f"{row.id}: no such route"
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids)), "duplicate rows"
