"""The calendar the product keeps (config/dates.py): the window every date input carries, the
services' windows, and stored values that any zone can show."""

from __future__ import annotations

import datetime as dt
import importlib
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone
from django_filters import FilterSet
from rest_framework import serializers

from accounts.models import User
from config import dates
from config.api import StrictInput

APPS = ("accounts", "audit", "systems", "actions", "cases", "quality", "committee", "outbox")
UTC = dt.UTC
KIRITIMATI = zoneinfo.ZoneInfo("Pacific/Kiritimati")  # UTC+14
NIUE = zoneinfo.ZoneInfo("Pacific/Niue")  # UTC-11


# --- The window -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "inside"),
    [
        (dt.date(2000, 1, 1), True),
        (dt.date(2100, 12, 31), True),
        (dt.date(1999, 12, 31), False),
        (dt.date(2101, 1, 1), False),
        (dt.date(1, 1, 1), False),
        (dt.date(9999, 12, 31), False),
        # A moment is judged by the date it was written with, never converted first.
        (dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-14))), False),
        (dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))), False),
        (dt.datetime(2100, 12, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-14))), True),
        (dt.datetime(2026, 5, 1, 12, 0), True),
    ],
)
def test_the_window_is_on_the_date_as_written(value, inside):
    assert dates.in_window(value) is inside
    if inside:
        dates.validate_in_window(value)
    else:
        with pytest.raises(ValidationError) as refused:
            dates.validate_in_window(value)
        assert refused.value.code == "out_of_range"
        assert refused.value.messages == ["Enter a date from 2000-01-01 to 2100-12-31."]


def test_a_past_moment_allows_a_little_clock_skew_and_nothing_more():
    now = timezone.now()
    dates.require_past("at", now + dates.CLOCK_SKEW, now=now)
    dates.require_past("at", None)
    with pytest.raises(ValidationError) as ahead:
        dates.require_past("at", now + dates.CLOCK_SKEW + dt.timedelta(seconds=1), now=now)
    assert ahead.value.message_dict == {"at": ["Cannot be in the future."]}
    with pytest.raises(ValidationError) as ancient:
        dates.require_past("at", dt.datetime(1, 1, 1, tzinfo=UTC), now=now)
    assert ancient.value.message_dict == {"at": [dates.window_message()]}


def test_a_due_date_is_within_the_window_and_not_passed():
    today = dt.date(2026, 6, 1)
    dates.require_due("due_on", today, passed="Passed.", today=today)
    dates.require_due("due_on", dates.LATEST, passed="Passed.", today=today)
    with pytest.raises(ValidationError) as passed:
        dates.require_due("due_on", today - dt.timedelta(days=1), passed="Passed.", today=today)
    assert passed.value.message_dict == {"due_on": ["Passed."]}
    with pytest.raises(ValidationError) as far:
        dates.require_due("due_on", dt.date(9999, 12, 31), passed="Passed.", today=today)
    assert far.value.message_dict == {"due_on": [dates.window_message()]}


# --- Showing a stored value -------------------------------------------------------------------


@pytest.mark.parametrize("zone", [KIRITIMATI, NIUE, zoneinfo.ZoneInfo("Asia/Tokyo"), UTC])
@pytest.mark.parametrize(
    "stored",
    [
        dt.datetime.max.replace(tzinfo=UTC),
        dt.datetime(9999, 12, 31, 20, 0, tzinfo=UTC),
        dt.datetime.min.replace(tzinfo=UTC),
        dt.datetime(1, 1, 1, 3, 0, tzinfo=UTC),
    ],
)
def test_a_stored_moment_at_the_calendars_ends_shows_in_any_zone(stored, zone):
    with pytest.raises(OverflowError):
        for other in (KIRITIMATI, NIUE):  # what every page did with it before
            stored.astimezone(other)
    shown = dates.local(stored, zone)
    assert shown.tzinfo is zone
    assert abs(shown - stored) <= dt.timedelta(days=1)  # held a day short of the end
    for again in (KIRITIMATI, NIUE, UTC):
        shown.astimezone(again)  # and converts again, as a template does


def test_a_moment_inside_the_calendar_shows_as_it_is():
    moment = dt.datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    assert dates.local(moment, KIRITIMATI) == moment
    assert dates.local(moment, KIRITIMATI).hour == 15


def test_the_api_gives_a_moment_its_zone_cannot_hold_in_utc_instead_of_failing():
    field = dates.ApiMomentField(read_only=True)
    edge = dt.datetime(9999, 12, 31, 20, 0, tzinfo=UTC)  # 10000-01-01 in Tokyo
    with pytest.raises(serializers.ValidationError):
        serializers.DateTimeField().to_representation(edge)  # what the meetings list did
    assert field.to_representation(edge) == "9999-12-31T20:00:00Z"
    ordinary = dt.datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    assert field.to_representation(ordinary) == "2026-12-08T10:00:00+09:00"


@pytest.mark.parametrize(
    "raw",
    [
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59+14:00",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00-14:00",
        "9999-12-31T20:00:00Z",
        "10000-01-01T00:00:00Z",
        "1999-12-31T23:59:59+09:00",
        "0001-01-01T00:00:00",  # naive: made aware in Tokyo, it is in year 0 in UTC
        "0001-01-01",
        "garbage",
    ],
)
def test_every_layer_refuses_a_moment_off_the_window(raw):
    class In(serializers.Serializer):
        at = dates.ApiMomentField()

    data = In(data={"at": raw})
    assert not data.is_valid()
    assert list(data.errors) == ["at"]
    for field in (dates.MomentField(), dates.IsoMomentField()):
        with pytest.raises(ValidationError):
            field.clean(raw)


# --- Every date input carries the window ------------------------------------------------------


def _modules() -> Iterator[Any]:
    for app in APPS:
        for part in ("forms", "filters", "api", "admin"):
            try:
                yield importlib.import_module(f"{app}.{part}")
            except ModuleNotFoundError:
                continue


def _ours(cls: type) -> bool:
    return cls.__module__.split(".")[0] in APPS


def _subclasses(base: type) -> set[Any]:
    found: set[Any] = set()
    todo: list[Any] = [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return {cls for cls in found if _ours(cls)}


DATE_FORM_FIELDS = (forms.DateField, forms.DateTimeField, forms.SplitDateTimeField)
DATE_FIELDS = (*DATE_FORM_FIELDS, serializers.DateField, serializers.DateTimeField)


def _dated(fields: dict[str, Any], where: str) -> dict[str, bool]:
    """Each date field found, by where it is: whether it carries the window."""
    return {
        f"{where}.{name}": dates.validate_in_window in field.validators
        for name, field in fields.items()
        if isinstance(field, DATE_FIELDS) and not getattr(field, "read_only", False)
    }


def _form_inputs() -> dict[str, bool]:
    found: dict[str, bool] = {}
    for form in _subclasses(forms.BaseForm):
        found |= _dated(form.base_fields, form.__qualname__)
    return found


def _filter_inputs() -> dict[str, bool]:
    found: dict[str, bool] = {}
    for filterset in _subclasses(FilterSet):
        for name, declared in filterset.base_filters.items():
            if issubclass(declared.field_class, DATE_FORM_FIELDS):
                found |= _dated({name: declared.field}, filterset.__qualname__)
    return found


def _api_inputs() -> dict[str, bool]:
    """What a client sends: the input serializers (StrictInput, by the product's convention);
    the others only render records."""
    found: dict[str, bool] = {}
    for serializer in _subclasses(StrictInput):
        found |= _dated(dict(serializer._declared_fields), serializer.__qualname__)
    return found


def _admin_inputs() -> dict[str, bool]:
    request = RequestFactory().get("/admin/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    found: dict[str, bool] = {}
    for model, model_admin in admin.site._registry.items():
        if not _ours(model):
            continue
        if model_admin.has_add_permission(request):
            form = model_admin.get_form(request)
            found |= _dated(form.base_fields, f"admin add {model.__name__}")
        if model_admin.has_change_permission(request):
            form = model_admin.get_form(request, obj=model())
            found |= _dated(form.base_fields, f"admin change {model.__name__}")
    return found


def test_every_date_input_of_the_product_carries_the_window():
    """Forms, page and API filters, API input fields and admin forms, found by walking the
    code: a date field added later without the window fails here."""
    list(_modules())
    found = _form_inputs() | _filter_inputs() | _api_inputs() | _admin_inputs()
    assert len(found) >= 40  # the walk found the inputs
    assert "IncidentFilter.reported_after" in found and "RescheduleIn.starts_at" in found
    assert [where for where, bounded in found.items() if not bounded] == []
