"""Filters over meetings: the API's, and the meetings page's richer form built on it."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from committee import selectors
from committee.models import Committee, Meeting
from config import dates
from config.filters import PageFilterSet, several

# --- The API's filter ------------------------------------------------------------------------


class MeetingFilter(django_filters.FilterSet):
    committee = django_filters.CharFilter(field_name="committee__slug")
    starts_after = dates.MomentFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = dates.MomentFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Meeting
        fields = ["committee", "status", "starts_after", "starts_before"]


# --- The meetings page's filter --------------------------------------------------------------

UPCOMING, PAST = "upcoming", "past"
WHEN_CHOICES = [(UPCOMING, _("Upcoming")), (PAST, _("Past"))]


def _committees(request: HttpRequest | None) -> QuerySet[Committee]:
    if request is None:
        return Committee.objects.none()
    return selectors.committees_for(request.user)


class MeetingListFilter(PageFilterSet, MeetingFilter):
    """Upcoming (soonest first) or past (latest first) meetings, by committee, status and date.
    A meeting still sitting counts as upcoming until it ends."""

    when = django_filters.ChoiceFilter(choices=WHEN_CHOICES, method="filter_when", label=_("When"))
    committee = django_filters.ModelChoiceFilter(
        field_name="committee", to_field_name="slug", queryset=_committees, label=_("Committee")
    )
    status = several(Meeting.Status.choices, label=_("Status"))
    starts_after = dates.DayFilter(field_name="starts_at", lookup_expr="date__gte", label=_("From"))
    starts_before = dates.DayFilter(
        field_name="starts_at", lookup_expr="date__lte", label=_("Until")
    )

    class Meta(MeetingFilter.Meta):
        fields = ["when", "committee", "status", "starts_after", "starts_before"]

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # Opening the page shows what is coming; any time ("Any") is a choice, not the default.
        if data is not None and "when" not in data:
            data = data.copy()
            data["when"] = UPCOMING
        super().__init__(data, *args, **kwargs)

    def filter_when(self, queryset: QuerySet[Meeting], name: str, value: str) -> QuerySet[Meeting]:
        now = timezone.now()
        if value == UPCOMING:
            return queryset.filter(ends_at__gte=now)
        if value == PAST:
            return queryset.filter(ends_at__lt=now)
        return queryset

    @property
    def qs(self) -> QuerySet[Meeting]:
        rows = super().qs
        when = self.form.cleaned_data.get("when") if self.form.is_valid() else None
        return (
            rows.order_by("starts_at", "pk")
            if when == UPCOMING
            else rows.order_by("-starts_at", "-pk")
        )
