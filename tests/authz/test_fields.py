"""Field by field: every field of every write in the matrix that a role may not set is tried,
and the database is checked unchanged. A role allowed the write sends each read-only field
of the answer beside a valid body (and hears a 400 naming it); a role refused the write sends
every field (and is refused, whatever the field)."""

from __future__ import annotations

import re
import uuid
from functools import cache
from typing import Any

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tests.authz.matrix import OK, ROLES, ROWS, Row, World
from tests.authz.test_matrix import send

WRITES = {"POST", "PATCH", "PUT"}
# Fields a client might try where the answer shows none (an act answered with a count).
PROBES: dict[str, Any] = {"status": {"type": "string"}, "unit": {"type": "string"}}


@cache
def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = _schema()["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node:
        return _resolve(node["allOf"][0])
    return node


def _operation(url: str, method: str) -> dict[str, Any] | None:
    path = url.split("?", 1)[0]
    for template, operations in _schema()["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            return operations[method.lower()]
    return None


def _fields(operation: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the request may carry, what the answer shows): JSON schema of each field."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    writable = _resolve(body["schema"]).get("properties", {}) if body else {}
    shown: dict[str, Any] = {}
    for code in ("200", "201"):
        answer = operation["responses"].get(code, {}).get("content", {}).get("application/json")
        if answer:
            schema = _resolve(answer["schema"])
            if schema.get("type") == "array":  # a list back (an agenda): its items' fields
                schema = _resolve(schema["items"])
            shown = schema.get("properties", {})
            break
    return writable, shown


def forged(spec: dict[str, Any]) -> Any:  # noqa: PLR0911 - one answer per JSON type
    """A well-typed value for a field, so that a refusal is about who may set it."""
    spec = _resolve(spec) if "$ref" in spec or "allOf" in spec else spec
    if "enum" in spec:
        return [v for v in spec["enum"] if v is not None][-1]
    kind = spec.get("type")
    if kind == "integer":
        return 424242
    if kind == "number":
        return 4.2
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object" or "properties" in spec:
        return {}
    if spec.get("format") == "date":
        return "2001-01-01"
    if spec.get("format") == "date-time":
        return "2001-01-01T00:00:00Z"
    return "forged"


def _json_writes() -> list[Row]:
    return [row for row in ROWS if row.method in WRITES]


@pytest.mark.django_db
@pytest.mark.parametrize("row", _json_writes(), ids=lambda row: row.id)
def test_no_role_sets_a_field_it_may_not(row: Row, world: World, login_as) -> None:
    tried = 0
    for role in ROLES:
        request = row.setup(world, row.scope)
        operation = _operation(request.url, row.method)
        assert operation is not None, f"{row.id}: {request.url} is not in the schema"
        writable, shown = _fields(operation)
        if request.body is not None and not isinstance(request.body, dict):
            continue  # a write whose body is not a JSON object (a list of ids)
        if not shown and not writable:
            shown = PROBES  # an answer with no object in it: the usual suspects
        allowed = row.expected[role] == OK
        fields = {f: s for f, s in {**shown, **writable}.items() if not (allowed and f in writable)}
        client = Client() if role == "anonymous" else login_as(world.users[role])
        for field, spec in sorted(fields.items()):
            headers = dict(request.headers)
            if "Idempotency-Key" in headers:
                headers["Idempotency-Key"] = uuid.uuid4().hex  # each try is a new request
            before = request.snapshot()
            body = {**(request.body or {}), field: forged(spec)}
            response = send(client, row.method, request.url, body, headers)
            tried += 1
            where = f"{row.id} as {role}, setting {field!r}"
            assert request.snapshot() == before, f"{where}: the data changed"
            if allowed:
                assert response.status_code == 400, f"{where}: {response.status_code}"
                assert field in response.json(), f"{where}: {response.json()}"
            else:
                assert not 200 <= response.status_code < 300, f"{where}: accepted"
    print(f"field-level {row.id}: {tried} tries")
    if tried == 0:
        pytest.fail(f"{row.id}: nothing to try (no JSON body or no fields in the schema)")
