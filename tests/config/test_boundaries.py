"""Boundary values through every door: each API operation's parameters and body fields, and each
page form's fields, get dates at years 1 and 9999 with offsets of +-14:00, very long strings,
NUL and other control characters, numbers past 64 bits and deeply nested JSON. No answer is a
500, and every API answer is JSON.

Unlike the schema fuzz (test_fuzz.py), which draws a few random cases per operation, this sweep
is deterministic: every field meets every boundary of its type, one field at a time, over the
demo organisation, so each operation addresses real records rather than answering 404. A field
sent alone reaches the parsers, the serializers and forms, and the services of acts whose other
fields are optional; a create with required fields stops at its serializer (the per-input date
tests and the authorization matrix carry valid bodies through to the services)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator
from knox.models import AuthToken

from accounts.models import User
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

DATETIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "10000-01-01T00:00:00Z"]
DATES = ["0001-01-01", "9999-12-31", "10000-01-01"]
STRINGS = ["x" * 100_000, "nul\x00here", "ctl\x01\x1b\x7f\u2028end", "line\r\nbreak", "\ud800"]
NUMBERS = [2**64, -(2**63) - 1, 10**400, 1e308]
NUMBER_TEXTS = ["18446744073709551616", "-9223372036854775809", "1e400", "NaN"]
DEEP = json.loads("[" * 30 + "]" * 30)  # legal depth: what reaches the serializer
TOO_DEEP = "[" * 2000 + "]" * 2000

ROLES = ["ciso", "pubsec-member"]


@pytest.fixture
def demo(settings) -> None:
    settings.DEMO_MODE = True
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def _boundaries(schema: dict[str, Any]) -> list[Any]:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "string" and fmt == "date-time":
        return DATETIMES
    if kind == "string" and fmt == "date":
        return DATES
    if kind in {"integer", "number"}:
        return NUMBERS
    if kind == "array":
        return [[value] for value in STRINGS[1:3]] + [DEEP]
    if kind == "object":
        return [DEEP, {"k": STRINGS[1]}]
    return STRINGS


def _query_boundaries(schema: dict[str, Any]) -> list[str]:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "string" and fmt == "date-time":
        return DATETIMES
    if kind == "string" and fmt == "date":
        return DATES
    if kind in {"integer", "number"}:
        return NUMBER_TEXTS
    return ["x" * 10_000, "nul\x00here", "ctl\x01\x1b", "line\r\nbreak"]


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node and len(node["allOf"]) == 1:
        return _resolve(spec, node["allOf"][0])
    return node


def _ids(client: Client, path: str) -> dict[str, str]:
    """Path parameters that address a real record the caller sees: the first of its list."""
    resource = path.split("/")[3]
    listing = client.get(f"/api/v1/{resource}/", HTTP_ACCEPT="application/json")
    if listing.status_code != 200:
        return {}
    body = listing.json()
    rows = body.get("results", body) if isinstance(body, dict) else body
    if not rows or not isinstance(rows, list):
        return {}
    first = rows[0]
    return {key: str(value) for key, value in first.items() if isinstance(value, int | str)}


def _fill(path: str, ids: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return ids.get(name) or ids.get("id") or "1"

    return re.sub(r"\{([^}]+)\}", value, path)


def _api_calls(client: Client) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (method, url, request) the sweep sends."""
    spec = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in spec["paths"].items():
        url = _fill(path, _ids(client, path))
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch"}:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                for value in _query_boundaries(_resolve(spec, parameter.get("schema", {}))):
                    yield (
                        "GET" if method == "get" else method.upper(),
                        url,
                        {"query": {parameter["name"]: value}},
                    )
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if method == "get" or body is None:
                continue
            yield method.upper(), url, {"raw": TOO_DEEP}
            fields = _resolve(spec, body.get("schema", {})).get("properties", {})
            for name, field in fields.items():
                if field.get("readOnly"):
                    continue
                for value in _boundaries(_resolve(spec, field)):
                    yield method.upper(), url, {"json": {name: value}}


def _send(client: Client, method: str, url: str, request: dict[str, Any]) -> Any:
    headers: dict[str, Any] = {"HTTP_ACCEPT": "application/json"}
    if method in {"PUT", "PATCH", "POST"}:
        etag = client.get(url, HTTP_ACCEPT="application/json").headers.get("ETag")
        if etag:
            headers["HTTP_IF_MATCH"] = etag
    if "query" in request:
        if method == "GET":
            return client.get(url, request["query"], **headers)
        query = "&".join(f"{k}={v}" for k, v in request["query"].items())
        return client.generic(method, f"{url}?{query}", "{}", "application/json", **headers)
    body = request.get("raw") or json.dumps(request["json"])
    return client.generic(method, url, body, "application/json", **headers)


@pytest.mark.parametrize("role", ROLES)
def test_every_api_operation_meets_every_boundary_without_a_500(demo, role):
    user = User.objects.get(username=role)
    _, token = AuthToken.objects.create(user=user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", raise_request_exception=False)
    sent, failures = 0, []
    for method, url, request in _api_calls(client):
        response = _send(client, method, url, request)
        sent += 1
        if response.status_code >= 500 or response["Content-Type"] != "application/json":
            shown = {
                k: (
                    str(v)[:60]
                    if not isinstance(v, dict)
                    else {a: str(b)[:60] for a, b in v.items()}
                )
                for k, v in request.items()
            }
            failures.append((method, url, shown, response.status_code, response.content[:200]))
    assert sent > 1000  # every operation, every field, every boundary
    assert not failures, failures[:20]


# --- Pages -----------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The links and the forms (action, method, field names and types) of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")
        elif tag == "form":
            self.forms.append(
                {
                    "action": found.get("action") or "",
                    "method": (found.get("method") or "get").lower(),
                    "fields": {},
                }
            )
        elif tag in {"input", "textarea", "select"} and self.forms and found.get("name"):
            kind = found.get("type") or tag
            if kind not in {"submit", "button", "file", "hidden"}:
                self.forms[-1]["fields"][found["name"]] = kind
            elif kind == "hidden":
                self.forms[-1]["fields"].setdefault(found["name"], ("hidden", found.get("value")))


def _page_boundaries(kind: Any) -> list[str]:
    if kind == "datetime-local":
        return ["0001-01-01T00:00", "9999-12-31T23:59", "9999-12-31T23:59:59-14:00"]
    if kind == "date":
        return [*DATES, "0001-01-01T00:00:00+14:00"]
    if kind == "month":
        return ["0001-01", "9999-12", "10000-01"]
    if kind == "number":
        return NUMBER_TEXTS
    return ["x" * 20_000, "nul\x00here", "ctl\x01\x1b\x7f", "line\r\nbreak"]


SKIP_PREFIXES = ("/accounts/", "/admin/", "/api/", "/static/", "/i18n/", "/media/")


def _plain_routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    """Every page route that takes no parameter (the lists and the forms for new records)."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if "<" in route or route.startswith(tuple(p.lstrip("/") for p in SKIP_PREFIXES)):
            continue
        if hasattr(pattern, "url_patterns"):
            yield from _plain_routes(pattern.url_patterns, route)
        else:
            yield "/" + route


def _crawl(client: Client, limit: int = 400) -> Iterator[tuple[str, _Forms]]:
    """Pages reachable from the dashboard and every parameterless route, one instance of each
    route (the first link found to it)."""
    queue, seen_routes = ["/", *_plain_routes(get_resolver().url_patterns)], set()
    while queue and limit:
        url = queue.pop(0)
        path = urlsplit(url).path
        try:
            route = resolve(path).route
        except Resolver404:
            continue
        if route in seen_routes:
            continue
        seen_routes.add(route)
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        limit -= 1
        parsed = _Forms()
        parsed.feed(response.content.decode())
        yield url, parsed
        for link in parsed.links:
            target = urljoin(url, link)
            if target.startswith("/") and not target.startswith(SKIP_PREFIXES):
                queue.append(target.split("#")[0])


@pytest.mark.parametrize("role", [*ROLES, "secretary", "cqo"])
def test_every_page_form_meets_every_boundary_without_a_500(demo, role):
    client = sign_in(Client(raise_request_exception=False), User.objects.get(username=role))
    forms_sent, failures = 0, []
    for url, page in _crawl(client):
        for form in page.forms:
            action = urljoin(url, form["action"]) if form["action"] else url
            if action.startswith(SKIP_PREFIXES) or "logout" in action:
                continue
            plain = {k: v for k, v in form["fields"].items() if not isinstance(v, tuple)}
            hidden = {k: v[1] or "" for k, v in form["fields"].items() if isinstance(v, tuple)}
            for name, kind in plain.items():
                for value in _page_boundaries(kind):
                    data = {**hidden, name: value}
                    if form["method"] == "post":
                        response = client.post(action, data)
                    else:
                        response = client.get(action, data)
                    forms_sent += 1
                    if response.status_code >= 500:
                        failures.append(
                            (form["method"], action, name, value[:40], response.status_code)
                        )
    assert forms_sent > 200
    assert not failures, failures[:20]
