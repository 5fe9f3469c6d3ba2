"""Filters over the audit trail, shared by the API and the audit-trail page."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import OfficeCode
from audit import sentences
from audit.models import AuditEvent
from config import dates
from config.filters import PageFilterSet


class _Place(django_filters.NumberFilter):
    """A place in the chain: a whole number (a NumberFilter would take 1.5)."""

    field_class = forms.IntegerField


class AuditEventFilter(django_filters.FilterSet):
    """The API's filters: ?verb=system.suspended&actor=ciso&occurred_after=2026-01-01T00:00Z ..."""

    occurred_after = dates.MomentFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("Occurred at or after")
    )
    occurred_before = dates.MomentFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("Occurred before")
    )
    actor = django_filters.CharFilter(field_name="actor_label", label=_("Actor (user name)"))
    verb = django_filters.CharFilter(label=_("Verb"))
    office = django_filters.CharFilter(label=_("Office"))
    target_type = django_filters.CharFilter(label=_("Target type"))
    target_id = django_filters.CharFilter(label=_("Target id"))
    sealed_after = _Place(
        field_name="sequence",
        lookup_expr="gt",
        label=_("Sealed after place"),
        help_text=_(
            "Only events sealed into the chain after this place (sequence). Places are given "
            "in order with no gaps, so a reader following the trail asks for the places after "
            "the last one it has; newest events not sealed yet come in a later ask."
        ),
    )

    class Meta:
        model = AuditEvent
        fields = ["verb", "office", "target_type", "target_id"]


def _start_of_day(day: date) -> datetime:
    """Midnight of a day in the company's time zone, so a date range means local days and the
    query still uses the index on occurred_at."""
    return timezone.make_aware(datetime.combine(day, time.min))


# The record types the services name as targets, by a translated name, for the page. The API
# still takes any (?target_type=app_label.model), so a type missing here is only not offered.
TARGET_TYPES = [
    ("accounts.user", _("Person")),
    ("accounts.businessunit", _("Business unit")),
    ("accounts.office", _("Office")),
    ("accounts.delegation", _("Delegation")),
    ("systems.system", _("System")),
    ("cases.incident", _("Incident")),
    ("cases.risk", _("Risk")),
    ("cases.riskmatrixcell", _("Risk matrix cell")),
    ("actions.action", _("Action")),
    ("actions.directive", _("Directive")),
    ("committee.committee", _("Committee")),
    ("committee.meeting", _("Meeting")),
    ("committee.decision", _("Decision")),
    ("committee.writtenresolution", _("Written resolution")),
    ("committee.calendarfeed", _("Calendar feed")),
    ("quality.project", _("Project")),
    ("quality.threshold", _("Rating thresholds")),
]


class AuditTrailFilter(PageFilterSet, AuditEventFilter):
    """The page's filters: the same, with local days for the range and drop-downs where the
    values are known: the verbs the trail holds, the record types and offices by name. Still
    free text underneath in the API (?verb=, ?target_type=app_label.model)."""

    order = ("verb", "actor", "target_type", "office", "date_from", "date_to")
    verb = django_filters.ChoiceFilter(choices=[], label=_("Verb"))
    target_type = django_filters.ChoiceFilter(choices=TARGET_TYPES, label=_("Target type"))
    office = django_filters.ChoiceFilter(choices=OfficeCode.choices, label=_("Office"))
    date_from = dates.DayFilter(label=_("From"), method="filter_from")
    date_to = dates.DayFilter(label=_("To"), method="filter_to")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the page's fields (not the API's raw timestamps or record ids).
        self.filters: dict[str, Any] = {name: self.filters[name] for name in self.order}
        # The verbs the trail holds, one query over the verb index for the events this reader
        # may read, each by its name in the reader's language.
        verbs = self.queryset.order_by("verb").values_list("verb", flat=True).distinct()
        named = [(verb, sentences.verb_name(verb)) for verb in verbs]
        self.filters["verb"].extra["choices"] = sorted(named, key=lambda choice: choice[1])

    def filter_from(
        self, queryset: QuerySet[AuditEvent], name: str, value: date
    ) -> QuerySet[AuditEvent]:
        return queryset.filter(occurred_at__gte=_start_of_day(value))

    def filter_to(
        self, queryset: QuerySet[AuditEvent], name: str, value: date
    ) -> QuerySet[AuditEvent]:
        return queryset.filter(occurred_at__lt=_start_of_day(value + timedelta(days=1)))
