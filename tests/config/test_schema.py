"""The OpenAPI schema documents what the API really answers: every refusal an operation can give,
error bodies in the shape the exception handler writes, and nullable relations as nullable.
(The fuzzer, tests/config/test_fuzz.py, holds the API to it; these say what it promises.)"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from drf_spectacular.generators import SchemaGenerator
from knox.models import AuthToken
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.renderers import JSONRenderer

from config.api import exception_handler
from config.errors import Conflict, PreconditionFailed, PreconditionRequired
from config.schema import ERROR, ERROR_SCHEMAS, VALIDATION_ERROR


@pytest.fixture(scope="module")
def api() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(api: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (path, method, operation)."""
    return {
        operation["operationId"]: (path, method, operation)
        for path, item in api["paths"].items()
        for method, operation in item.items()
    }


def headers_of(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}


def test_every_operation_documents_the_refusals_it_can_give(api):
    for op_id, (path, method, operation) in operations(api).items():
        codes = set(operation["responses"])
        assert {"401", "403", "429", "503"} <= codes, op_id
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert ("404" in codes) == ("{" in path or "cursor" in query), op_id
        if method != "get":
            assert "400" in codes, op_id
        headers = headers_of(operation)
        assert ({"412", "428"} <= codes) == ("If-Match" in headers), op_id
        assert ({"409", "422"} <= codes) == ("Idempotency-Key" in headers), op_id
        takes_body = "requestBody" in operation or "Idempotency-Key" in headers
        assert ("415" in codes) == takes_body, op_id
        for code, response in operation["responses"].items():
            if code >= "400":
                expected = VALIDATION_ERROR if code == "400" else ERROR
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": f"#/components/schemas/{expected}"}, (op_id, code)


def test_the_error_bodies_are_components(api):
    assert {name: api["components"]["schemas"][name] for name in ERROR_SCHEMAS} == ERROR_SCHEMAS


def test_versioned_idempotent_and_conflicting_writes_say_so(api):
    ops = operations(api)
    for op_id in (
        "actions_start_create",
        "systems_partial_update",
        "meetings_minutes_approve_create",
    ):
        assert headers_of(ops[op_id][2])["If-Match"]["required"] is True, op_id
    # The first draft of the minutes needs no version; a rewrite does.
    assert headers_of(ops["meetings_minutes_update"][2])["If-Match"].get("required") is not True
    for op_id in (
        "systems_suspend_create",
        "meetings_decisions_create",
        "incidents_rollout_create",
    ):
        assert "Idempotency-Key" in headers_of(ops[op_id][2]), op_id
    for op_id in (
        "suspensions_lift_create",
        "meetings_agenda_create",
        "directives_withdraw_create",
    ):
        assert "409" in ops[op_id][2]["responses"], op_id
    # Reading and ordinary writes promise none of these.
    assert not {"409", "412", "422", "428"} & set(ops["incidents_triage_create"][2]["responses"])


def test_nullable_relations_are_nullable(api):
    schemas = api["components"]["schemas"]
    for component, field in [
        ("BusinessUnitOut", "head"),
        ("BusinessUnitOut", "parent"),
        ("OfficeOut", "holder"),
        ("ActionOut", "assignee"),
        ("SuspensionOut", "lifted_by"),
        ("AgendaItemOut", "incident"),
        ("MinutesOut", "approved_by"),
    ]:
        assert schemas[component]["properties"][field].get("nullable") is True, (component, field)


def test_lists_an_action_answers_whole_are_plain_arrays(api):
    ops = operations(api)
    for op_id in ("meetings_agenda_list", "actions_updates_list", "incidents_timeline_list"):
        operation = ops[op_id][2]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["type"] == "array", op_id
        assert not [p for p in operation.get("parameters", []) if p["in"] == "query"], op_id


@pytest.mark.parametrize(
    ("exc", "code", "component"),
    [
        (Conflict("Already suspended.", code="already_suspended"), 409, ERROR),
        (PreconditionFailed(), 412, ERROR),
        (PreconditionRequired(), 428, ERROR),
        (NotFound(), 404, ERROR),
        (DataError("year 5823 is out of range"), 400, VALIDATION_ERROR),
        (DjangoValidationError({"reason": "Say why."}), 400, VALIDATION_ERROR),
        (DjangoValidationError("This delegation was already revoked."), 400, VALIDATION_ERROR),
        (DRFValidationError({"actions": [{}, {"unit": ["No such unit."]}]}), 400, VALIDATION_ERROR),
        (
            DRFValidationError({"order": {"0": ["A valid integer is required."]}}),
            400,
            VALIDATION_ERROR,
        ),
        (ParseError(), 400, VALIDATION_ERROR),
    ],
)
def test_the_exception_handler_answers_in_the_documented_shapes(exc, code, component):
    response = exception_handler(exc, {})
    assert response is not None
    assert response.status_code == code
    body = json.loads(JSONRenderer().render(response.data))  # as the client reads it
    jsonschema_rs.validate(ERROR_SCHEMAS[component], body)


@pytest.mark.django_db
def test_a_calendar_error_is_labelled_json(client, ciso):
    """The iCalendar renderer writes errors as JSON; they must not be labelled text/calendar."""
    _, token = AuthToken.objects.create(user=ciso)
    response = client.get(
        "/api/v1/meetings/999999/ical/?format=ics", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}
