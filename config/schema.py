"""The OpenAPI schema's error contract: which refusals each operation can answer with, and in
what shape, added in one place (a drf-spectacular postprocessing hook) rather than on each view.

What a view's code shows is read from the view: a write or filters (400), authentication and
permissions (401, 403), a record in the path or a page cursor (404), a body (415), throttling
(429), `config.idempotency.idempotent` (the Idempotency-Key header; 409 while the first request
runs, 422 for a key reused with another body), and on every operation a database outage (503,
`config.availability`). What only a service knows is declared on the view with the helpers
below: `IF_MATCH` (the header; 412 and 428) and `CONFLICT` (409, where the service can raise
`config.errors.Conflict`)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.permissions import AllowAny

from config.idempotency import IDEMPOTENCY_HEADER, idempotent

ERROR = "Error"
VALIDATION_ERROR = "ValidationError"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


# What `config.api.exception_handler` (and DRF's handler under it) answers for a refusal.
ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    ERROR: {
        "type": "object",
        "description": "Why the request was refused. `code` names the reason where a client "
        "can act on it: `stale`, `if_match_required`, `idempotency_key_reused`, `in_progress`, "
        "or a conflict's own (`locked`, `already_lifted`, ...).",
        "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
        "required": ["detail"],
    },
    VALIDATION_ERROR: {
        "type": "object",
        "description": "What is wrong with the request: under each field's name, its messages "
        "(for a list or a nested object, the errors of each item); under `detail` or "
        "`non_field_errors`, what is wrong with the request as a whole. A value the database "
        "cannot hold answers `detail` with the `code` `out_of_range`.",
        "properties": {
            "detail": {
                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
            "non_field_errors": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": {
            "anyOf": [{"type": "array"}, {"type": "object"}, {"type": "string"}]
        },
    },
}

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag you read, so that nobody's change is overwritten: 428 without it, "
    "412 when the record has changed since.",
)

CONFLICT = OpenApiResponse(
    _ref(ERROR), description="The write collides with the record's current state (see `code`)."
)

_IDEMPOTENCY_KEY = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "Send the same key to retry safely: the write happens once, and a retry "
    "gets the first answer again.",
}

# Every view `idempotent` wraps runs this one code object: that is how one is recognised.
_IDEMPOTENT_CODE = idempotent(lambda *args, **kwargs: None).__code__  # type: ignore[arg-type]

# Query parameters that never make a request invalid: a bad page size falls back to the
# default, an unknown ordering is ignored, and a bad cursor is a 404.
_LENIENT_QUERY = {"cursor", "page_size", "ordering"}

_JSON = "application/json"
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}


def _view_function(view: Any, method: str) -> Any:
    return getattr(view, getattr(view, "action", None) or method.lower(), None)


def _is_idempotent(view: Any, method: str) -> bool:
    return getattr(_view_function(view, method), "__code__", None) is _IDEMPOTENT_CODE


def _refusals(view: Any, method: str, path: str, operation: dict[str, Any]) -> dict[str, str]:
    """Each error status code the operation can answer with, and why."""
    where = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
    query = {name for location, name in where if location == "query"}
    idempotent_view = _is_idempotent(view, method)
    found: dict[str, list[str]] = {}

    def add(code: str, reason: str) -> None:
        found.setdefault(code, []).append(reason)

    if method not in {"GET", "HEAD"}:
        add("400", "The request is invalid, or the record's state does not allow it.")
    elif query - _LENIENT_QUERY:
        add("400", "A query parameter is invalid.")
    if view.get_authenticators():  # a wrong or expired token, even where anyone may read
        add("401", "No valid credentials: sign in, or send `Authorization: Token <key>`.")
    if any(not isinstance(permission, AllowAny) for permission in view.get_permissions()):
        add("403", "You may not do this (the refusal is recorded in the audit trail).")
    if "{" in path:
        add("404", "No such record among those you may see.")
    if "cursor" in query:
        add("404", "Not a valid page cursor.")
    if idempotent_view:
        add("409", "A request with this Idempotency-Key is still running (`in_progress`).")
    if ("header", "If-Match") in where:
        add("412", "The record changed since you read it (`stale`): read it again.")
    if "requestBody" in operation or idempotent_view:  # fingerprinting reads the body
        add("415", "The body is not in one of the documented media types.")
    if idempotent_view:
        add("422", "This Idempotency-Key was used with another request.")
    if ("header", "If-Match") in where:
        add("428", "Send If-Match with the ETag you read (`if_match_required`).")
    if view.get_throttles():
        add("429", "Too many requests: wait as long as Retry-After says.")
    # config.availability: any request that meets a database restart or failover.
    add(
        "503",
        "The database is unavailable for a moment (`database_unavailable`): retry after "
        "Retry-After.",
    )
    return {code: " Or: ".join(reasons) for code, reasons in found.items()}


def _document(responses: dict[str, Any], code: str, description: str, path: str) -> None:
    response = responses.get(code)
    if response is None:
        schema = VALIDATION_ERROR if code == "400" else ERROR
        response = {"content": {_JSON: {"schema": _ref(schema)}}, "description": description}
        responses[code] = response
    else:  # declared on the view (CONFLICT): another reason for the same code
        response["description"] = f"{response['description']} Or: {description}"
    if code in {"429", "503"}:
        response["headers"] = _RETRY_AFTER


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS: every operation documents the refusals it can give, and their
    bodies (`Error`, `ValidationError`)."""
    views = {}
    for path, _, method, callback in generator.endpoints:
        view = generator.create_view(callback, method)
        views[generator.coerce_path(path, method, view), method.upper()] = view
    for path, operations in result["paths"].items():
        for method, operation in operations.items():
            view = views.get((path, method.upper()))
            if view is None:
                continue
            if _is_idempotent(view, method):
                operation.setdefault("parameters", []).append(_IDEMPOTENCY_KEY)
            responses = operation["responses"]
            for code, description in _refusals(view, method.upper(), path, operation).items():
                _document(responses, code, description, path)
            operation["responses"] = dict(sorted(responses.items()))
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    return result
