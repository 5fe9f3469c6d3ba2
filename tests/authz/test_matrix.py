"""Tests generated from the authorization matrix, and a completeness check over the URL map."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.authz.matrix import (
    DENIED,
    HIDDEN,
    INVALID,
    OK,
    ROLES,
    ROUTE_METHODS,
    ROWS,
    STATUS_CLASSES,
    Row,
    World,
)
from tests.authz.pages import PAGE_ROUTE_METHODS, PAGE_ROWS, SIGN_IN, PageRow
from tests.unchanged import audit_mark, audited_since


def _params() -> list[Any]:
    # No expected failures: a disagreement with docs/architecture.md is fixed, not marked.
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
    mark = audit_mark()
    response = send(client, row.method, request.url, request.body, request.headers)
    expected = row.expected[role]
    assert STATUS_CLASSES[expected](response.status_code), (
        f"{row.id} as {role}: expected {expected}, got {response.status_code} "
        f"{response.content[:300]!r}"
    )
    if row.is_write and expected != OK:
        assert request.snapshot() == before, f"{row.id} as {role}: refused, yet the data changed"
        assert audited_since(mark) == [], f"{row.id} as {role}: refused, yet audited as done"


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


# --- Pages -----------------------------------------------------------------------------------


def page_outcome(response: Any) -> str:
    """The outcome class of a page's answer (tests/authz/pages.py)."""
    code = response.status_code
    if code == 302 and urlsplit(response["Location"]).path == reverse("account_login"):
        return SIGN_IN
    if 200 <= code < 400:
        return OK
    return {403: DENIED, 404: HIDDEN, 400: INVALID, 409: INVALID, 412: INVALID}.get(
        code, f"status {code}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "role"),
    [pytest.param(row, role, id=f"{row.id}-{role}") for row in PAGE_ROWS for role in ROLES],
)
def test_page(row: PageRow, role: str, world: World, login_as) -> None:
    request = row.setup(world, row.scope)
    client = Client() if role == "anonymous" else login_as(world.users[role])
    before = request.snapshot() if row.is_write else None
    mark = audit_mark()
    # A form as a browser posts it (the rows are GET and POST only: see the rows' test).
    if row.method == "GET":
        response = client.get(request.url)
    else:
        response = client.post(request.url, request.body or {})
    expected, got = row.expected[role], page_outcome(response)
    assert got == expected, (
        f"{row.id} as {role}: expected {expected}, got {got} ({response.status_code}) "
        f"{response.content[:300]!r}"
    )
    if row.is_write and expected != OK:
        assert request.snapshot() == before, f"{row.id} as {role}: refused, yet the data changed"
        assert audited_since(mark) == [], f"{row.id} as {role}: refused, yet audited as done"


# Routes of the site that are not the product's pages or API, and why no row covers them.
EXCLUDED = {
    "admin/": "Django's admin: staff only, with its own permissions; its sign-in goes through "
    "allauth (tests/accounts/test_admin.py and the apps' test_admin.py)",
    "accounts/": "allauth's sign-in, sign-up, password and MFA pages, which manage their own "
    "authentication (tests/accounts/test_mfa.py, test_lockout.py, test_sessions.py)",
    "i18n/": "Django's set_language: the language cookie, for anyone, signed in or not",
    "api/schema/": "the OpenAPI document, drf-spectacular's (tests/config/test_schema.py)",
    "api/docs/": "Swagger UI over that document, drf-spectacular's",
    "healthz": "the load balancer's health check: no sign-in by design, and no data",
    "favicon.ico": "the browser's automatic icon request: a redirect to a static file, for anyone",
    "api/v1/": "the API: its own matrix above (test_every_api_route_has_a_row)",
}


def declared_methods(view: Callable[..., Any]) -> list[str] | None:
    """The methods a view is restricted to (require_http_methods, require_POST, require_safe
    and the like, under any decorators over them), or None if it takes any."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return [
            m.upper()
            for m in view_class.http_method_names
            if hasattr(view_class, m) and m != "options"
        ]
    layer: Any = view
    while layer is not None:
        code = getattr(layer, "__code__", None)
        cells = getattr(layer, "__closure__", None) or ()
        if code is not None:
            for name, cell in zip(code.co_freevars, cells, strict=True):
                if name == "request_method_list":
                    return [str(m).upper() for m in cell.cell_contents]
        layer = getattr(layer, "__wrapped__", None)
    return None


def site_routes() -> set[tuple[str, str, str]]:
    """Every (pattern, namespaced name, method) of the whole URL map outside EXCLUDED. A view
    that takes any method is listed with GET and POST (what a browser sends; such views treat
    the rest as GET); HEAD goes with GET."""
    found: set[tuple[str, str, str]] = set()

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                pattern = prefix + str(entry.pattern)
                if pattern.startswith(tuple(EXCLUDED)):
                    continue
                name = f"{namespace}{entry.name}" if entry.name else ""
                methods = declared_methods(entry.callback) or ["GET", "POST"]
                for method in {"GET" if m == "HEAD" else m for m in methods}:
                    found.add((pattern, name, method))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_route_of_the_site_has_a_row() -> None:
    """A new page (or a new method on one) cannot ship without saying who gets what."""
    missing = sorted(
        f"{method} {pattern} ({name or 'no name'})"
        for pattern, name, method in site_routes()
        if not name or (name, method) not in PAGE_ROUTE_METHODS
    )
    assert not missing, "routes with no row in the page matrix:\n" + "\n".join(missing)


def test_page_rows_name_every_role_and_real_routes() -> None:
    names = {(name, method) for _p, name, method in site_routes()}
    for row in PAGE_ROWS:
        assert set(row.expected) == set(ROLES), row.id
        assert (row.name, row.method) in names, f"{row.id}: no such route"
        assert row.method in {"GET", "POST"}, f"{row.id}: test_page sends GET and POST only"
        # Only the calendar feed, whose token is its credential, serves a signed-out reader.
        if row.name != "calendar-feed":
            assert row.expected["anonymous"] == SIGN_IN, row.id
    ids = [row.id for row in PAGE_ROWS]
    assert len(ids) == len(set(ids)), "duplicate rows"


def test_the_exclusions_are_real_prefixes_of_the_site() -> None:
    patterns: list[str] = []

    def walk(entries: list[Any], prefix: str) -> None:
        for entry in entries:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            else:
                patterns.append(prefix + str(entry.pattern))

    walk(get_resolver().url_patterns, "")
    for prefix in EXCLUDED:
        assert any(p.startswith(prefix) for p in patterns), f"{prefix}: excludes nothing"
