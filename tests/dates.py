"""Helpers for the tests of date inputs: the values an outside tester sends to every date and time
the product accepts, and what a refusal must look like at each door."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

from django import forms
from django.forms.formsets import BaseFormSet
from django.test import Client

from audit.models import AuditEvent

# Years 1 and 9999 with the widest offsets overflow when converted to UTC; year 10000 does not
# parse; garbage is garbage. Plain dates of years 1 and 9999 parse, and are off the window.
MOMENTS = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-14:00",
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59-14:00",
    "10000-01-01T00:00:00Z",
    "1999-12-31T12:00:00Z",
    "garbage",
]
DAYS = ["0001-01-01", "9999-12-31", "10000-01-01", "2101-01-01", *MOMENTS]


@dataclasses.dataclass
class Door:
    """One date input: how to reach it and who may.

    `kind` is api-get (a filter of the API), page-get (a filter of a page), api (a JSON body)
    or page (a posted form). `send(client, value)` makes the request; `state()` reads what a
    refusal must leave as it was; `path` names the field in the API's error (a nested field:
    "actions.0.due_on")."""

    name: str
    kind: str
    who: str
    field: str
    send: Callable[[Client, str], Any]
    values: list[str] = dataclasses.field(default_factory=lambda: list(DAYS))
    state: Callable[[], Any] = lambda: None
    path: str = ""

    def __str__(self) -> str:
        return self.name


def filter_door(kind: str, who: str, name: str, url: str, **fixed: str) -> Door:
    """A list filter as a door: `kind` api-get or page-get, `url` the list, `fixed` other
    query parameters sent alongside (a page's own defaults)."""
    label = "api filter" if kind == "api-get" else "page filter"
    return Door(f"{label} {name}", kind, who, name, lambda c, v: c.get(url, {**fixed, name: v}))


def post_json(client: Client, url: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def forms_in(context: Any) -> Iterator[forms.BaseForm]:
    """Every form a page rendered: forms, a filter's form, the forms of a formset."""
    contexts = context if isinstance(context, list) else [context]  # a ContextList
    layers = [layer for ctx in contexts for layer in ([ctx] if isinstance(ctx, dict) else ctx)]
    for layer in layers:
        for value in layer.values():
            if isinstance(value, forms.BaseForm):
                yield value
            elif isinstance(value, BaseFormSet):
                yield from value.forms
            elif isinstance(getattr(value, "form", None), forms.BaseForm):
                yield value.form


def api_error_at(body: Any, path: str) -> Any:
    for part in path.split("."):
        body = body[int(part)] if isinstance(body, list) else body[part]
    return body


def assert_refused(door: Door, client: Client, value: str) -> None:
    """A 400 that names the field (on a page: the form shown again with the error on that
    field), and nothing written."""
    events = AuditEvent.objects.count()
    before = door.state()
    response = door.send(client, value)
    assert response.status_code == 400, (door.name, value, response.status_code)
    if door.kind.startswith("api"):
        errors = api_error_at(response.json(), door.path or door.field)
        assert errors, (door.name, value, response.json())
    else:
        errored = [form for form in forms_in(response.context) if door.field in form.errors]
        assert errored, (door.name, value, "no form shows the error on", door.field)
    assert AuditEvent.objects.count() == events, (door.name, value)
    assert door.state() == before, (door.name, value)
