"""The calendar the product keeps: every date and time it accepts is read safely and checked
against a window that makes sense for it, and every stored one can be shown.

Two layers, as everywhere else. The input layer (form fields, filters, API fields, admin
fields below) refuses what no one means: a year 1 or 9999, whose conversion to UTC overflows
(`9999-12-31T23:59:59-14:00` is in year 10000 there), or any date outside `EARLIEST..LATEST`.
The window is on the calendar date as written, so nothing is converted before it is checked.
The services then apply the window their domain means (not in the future, not already due,
within a committee's scheduling horizon) with the `require_*` helpers and their own checks, so
the API, the pages, the admin and the tasks all get the same rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from dateutil.relativedelta import relativedelta
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.fields import IsoDateTimeField
from rest_framework import serializers

# The window every date and time the product accepts falls in: wide enough for any record a
# company keeps today (and its plans), far enough from the calendar's ends that no time zone
# offset can push a value off them.
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)
# How far a client's clock may run ahead of ours before "now" is "in the future".
CLOCK_SKEW = dt.timedelta(minutes=2)

# A stored value is shown within these, so that it converts to any zone (offsets stay under a
# day) even if it was written before the window was checked.
_SHOWN_FROM = dt.datetime.min.replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
_SHOWN_UNTIL = dt.datetime.max.replace(tzinfo=dt.UTC) - dt.timedelta(days=1)


def _day_of(value: dt.date) -> dt.date:
    # The calendar date as written (a datetime keeps its own offset): no conversion, no overflow.
    return value.date() if isinstance(value, dt.datetime) else value


def in_window(value: dt.date) -> bool:
    return EARLIEST <= _day_of(value) <= LATEST


def window_message() -> str:
    return _("Enter a date from %(earliest)s to %(latest)s.") % {
        "earliest": EARLIEST.isoformat(),
        "latest": LATEST.isoformat(),
    }


def validate_in_window(value: Any) -> None:
    """The input layer's validator, on every date and time field (forms, filters, API, admin)."""
    if isinstance(value, dt.date) and not in_window(value):
        raise ValidationError(window_message(), code="out_of_range")


# --- The services' windows --------------------------------------------------------------------


def refuse(field: str, message: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code="out_of_range")})


def require_in_window(field: str, value: dt.date | None) -> None:
    """A service's own guard: what reaches it from a task or a caller that skipped the input
    layer is held to the same window."""
    if value is not None and not in_window(value):
        raise refuse(field, window_message())


def require_past(field: str, moment: dt.datetime | None, *, now: dt.datetime | None = None) -> None:
    """Something that already happened: not later than now (give or take a client's clock)."""
    if moment is None:
        return
    require_in_window(field, moment)
    if moment > (now or timezone.now()) + CLOCK_SKEW:
        raise refuse(field, _("Cannot be in the future."))


def years_after(day: dt.date, years: int) -> dt.date:
    return day + relativedelta(years=years)


def require_due(
    field: str, day: dt.date | None, *, passed: str, today: dt.date | None = None
) -> None:
    """A due date or a deadline: within the window, and not passed (`passed` says so in the
    caller's words)."""
    if day is None:
        return
    require_in_window(field, day)
    if day < (today or timezone.localdate()):
        raise refuse(field, passed)


# --- Showing a stored value -------------------------------------------------------------------


def showable(moment: dt.datetime) -> dt.datetime:
    """A stored moment that any zone can show: one written before the window was checked (a
    meeting moved to 9999-12-31) is held at the calendar's end, a day short of it."""
    if timezone.is_naive(moment):
        return moment
    return min(max(moment, _SHOWN_FROM), _SHOWN_UNTIL)


def local(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The moment on a zone's wall clock, never an OverflowError."""
    return showable(moment).astimezone(zone)


def representable(moment: dt.datetime) -> bool:
    """Whether a moment converts to UTC (how the database stores it); a naive one is read on
    the site's clock first, as Django reads it (0001-01-01 00:00 in Tokyo is before year 1)."""
    try:
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=timezone.get_current_timezone())
        moment.astimezone(dt.UTC)
    except OverflowError:
        return False
    return True


# --- Form fields, filters and admin fields ----------------------------------------------------


class DayField(forms.DateField):
    default_validators = [validate_in_window]


class MomentField(forms.DateTimeField):
    default_validators = [validate_in_window]


class SplitMomentField(forms.SplitDateTimeField):
    """The admin's date-and-time pair, with the window."""

    default_validators = [validate_in_window]


class IsoMomentField(IsoDateTimeField):
    default_validators = [validate_in_window]


class DayFilter(django_filters.DateFilter):
    field_class = DayField


class MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = IsoMomentField


# A ModelAdmin's `formfield_overrides`: its date and date-time fields get the window.
ADMIN_FORMFIELDS: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.DateField: {"form_class": DayField},
    models.DateTimeField: {"form_class": SplitMomentField},
}


# --- API fields -------------------------------------------------------------------------------


class ApiDayField(serializers.DateField):
    default_validators = [validate_in_window]


class ApiMomentField(serializers.DateTimeField):
    """A moment in and out. In: within the window, and a 400 (never an OverflowError) where
    the conversion to the server's zone overflows. Out: a stored moment the server's zone
    cannot show is given in UTC, exactly, rather than failing the whole response."""

    default_validators = [validate_in_window]

    def to_internal_value(self, value: Any) -> dt.datetime:
        try:
            return super().to_internal_value(value)
        except OverflowError:
            # DRF checks a naive value made aware (0001-01-01 in Tokyo) by converting it to UTC,
            # which overflows before its own guard is reached.
            self.fail("overflow")

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        try:
            return super().enforce_timezone(value)
        except serializers.ValidationError:
            if timezone.is_aware(value) and representable(value):
                return value.astimezone(dt.UTC)
            raise
