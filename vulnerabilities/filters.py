"""Filters over advisories and findings, and the findings' orderings, for the API."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.filters import OrderingFilter

from vulnerabilities import selectors
from vulnerabilities.models import (
    Advisory,
    AffectedRange,
    Alias,
    DiscoveredAsset,
    ExposedService,
    Finding,
    Priority,
    Scan,
    Severity,
    Sighting,
)

# Most severe highest, so `?ordering=-severity` puts critical first.
SEVERITY_RANK = {
    Severity.CRITICAL: 5,
    Severity.HIGH: 4,
    Severity.MEDIUM: 3,
    Severity.LOW: 2,
    Severity.NONE: 1,
    Severity.UNKNOWN: 0,
}
# A finding to review has no due date yet: it sorts after every dated one, and the cursor
# never holds a NULL (which it could not compare on the next page).
UNDATED = dt.date(9999, 12, 31)


def package_key(name: str, value: str) -> str:
    """The package key a filter compares: a Package URL or CPE read as the matching reads it
    (a version in it is ignored), or a key as given; a bad one is a 400 naming the filter."""
    value = value.strip()
    if not value.startswith(("pkg:", "cpe:")):
        return value
    try:
        key, _vers = selectors.read_question(value)
    except ValidationError as exc:
        raise serializers.ValidationError(
            {name: exc.message_dict.get("package", exc.messages)}
        ) from None
    return key


class IdFilter(django_filters.NumberFilter):
    """A record's id: a whole number (a NumberFilter would take 1.5)."""

    field_class = forms.IntegerField


class AdvisoryFilter(django_filters.FilterSet):
    """?package=pkg:maven/org.apache.logging.log4j/log4j-core, ?vulnerability=CVE-2021-44228."""

    package = django_filters.CharFilter(method="by_package", label=_("Package"))
    vulnerability = django_filters.CharFilter(method="by_vulnerability", label=_("Vulnerability"))
    source = django_filters.ChoiceFilter(choices=Advisory.Source.choices, label=_("Source"))

    class Meta:
        model = Advisory
        fields = ["package", "vulnerability", "source"]

    def by_package(self, queryset: QuerySet[Advisory], name: str, value: str) -> Any:
        key = package_key(name, value)
        return queryset.filter(pk__in=AffectedRange.objects.filter(package=key).values("advisory"))

    def by_vulnerability(self, queryset: QuerySet[Advisory], name: str, value: str) -> Any:
        value = value.strip()
        named = Alias.objects.filter(name__iexact=value).values("vulnerability")
        return queryset.filter(Q(vulnerability__key__iexact=value) | Q(vulnerability__in=named))


class FindingFilter(django_filters.FilterSet):
    """?unit=PUBSEC&severity=critical&priority=p1&state=open&kev=true&overdue=true&system=3
    &package=pkg:pypi/django&scan=7&outcome=new&closed_by_scan=7"""

    unit = django_filters.CharFilter(field_name="system__unit__code", label=_("Business unit"))
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label=_("Severity"))
    priority = django_filters.ChoiceFilter(choices=Priority.choices, label=_("Priority"))
    state = django_filters.ChoiceFilter(choices=Finding.State.choices, label=_("State"))
    kev = django_filters.BooleanFilter(
        field_name="vulnerability__kev", label=_("Exploited in the wild")
    )
    overdue = django_filters.BooleanFilter(method="by_overdue", label=_("Overdue"))
    system = IdFilter(field_name="system_id", min_value=1, max_value=2**31 - 1, label=_("System"))
    package = django_filters.CharFilter(method="by_package", label=_("Package"))
    scan = IdFilter(method="by_scan", min_value=1, max_value=2**31 - 1, label=_("Seen by scan"))
    outcome = django_filters.ChoiceFilter(
        method="by_outcome", choices=Sighting.Outcome.choices, label=_("What that scan made of it")
    )
    closed_by_scan = IdFilter(
        field_name="closed_by_scan_id", min_value=1, max_value=2**31 - 1, label=_("Closed by scan")
    )

    class Meta:
        model = Finding
        fields = [
            "unit", "severity", "priority", "state", "kev", "overdue", "system", "package",
            "scan", "outcome", "closed_by_scan",
        ]  # fmt: skip

    def by_scan(self, queryset: QuerySet[Finding], name: str, value: int | None) -> Any:
        if value is None:
            return queryset
        outcome = self.form.cleaned_data.get("outcome")
        sightings = Sighting.objects.filter(scan_id=value, finding=OuterRef("pk"))
        if outcome:
            sightings = sightings.filter(outcome=outcome)
        return queryset.filter(Exists(sightings))

    def by_outcome(self, queryset: QuerySet[Finding], name: str, value: str) -> Any:
        return queryset  # read with `scan`: what that scan made of each finding

    def by_overdue(self, queryset: QuerySet[Finding], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        late = Q(state=Finding.State.OPEN, due_on__lt=timezone.localdate())
        return queryset.filter(late) if value else queryset.exclude(late)

    def by_package(self, queryset: QuerySet[Finding], name: str, value: str) -> Any:
        return queryset.filter(package=package_key(name, value))


def with_sort_keys(queryset: QuerySet[Finding]) -> QuerySet[Finding]:
    """The columns the findings' orderings sort by (FindingOrdering names them)."""
    return queryset.annotate(
        due_sort=Coalesce(F("due_on"), Value(UNDATED)),
        severity_rank=Case(
            *[When(severity=value, then=Value(rank)) for value, rank in SEVERITY_RANK.items()],
            default=Value(0),
            output_field=IntegerField(),
        ),
    )


class FindingOrdering(OrderingFilter):
    """?ordering=due_on | priority | severity (`-` for descending): what a client names, sorted
    by keys the cursor can hold (a due date never NULL, severity by rank, not by its name)."""

    SORT_KEYS = {"due_on": "due_sort", "severity": "severity_rank"}

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> list[str]:
        ordering = super().get_ordering(request, queryset, view) or []
        if isinstance(ordering, str):
            ordering = [ordering]
        mapped = []
        for term in ordering:
            descending = term.startswith("-")
            name = term.lstrip("-")
            mapped.append(("-" if descending else "") + self.SORT_KEYS.get(name, name))
        return mapped


class ScanFilter(django_filters.FilterSet):
    """?format=trivy&state=done&system=3"""

    format = django_filters.ChoiceFilter(choices=Scan.Format.choices, label=_("Format"))
    state = django_filters.ChoiceFilter(choices=Scan.State.choices, label=_("State"))
    system = IdFilter(field_name="system_id", min_value=1, max_value=2**31 - 1, label=_("System"))

    class Meta:
        model = Scan
        fields = ["format", "state", "system"]


class AssetFilter(django_filters.FilterSet):
    """?state=new&overdue=true&unit=PUBSEC"""

    state = django_filters.ChoiceFilter(choices=DiscoveredAsset.State.choices, label=_("State"))
    unit = django_filters.CharFilter(field_name="unit__code", label=_("Business unit"))
    overdue = django_filters.BooleanFilter(method="by_overdue", label=_("Unclaimed past deadline"))

    class Meta:
        model = DiscoveredAsset
        fields = ["state", "unit", "overdue"]

    def by_overdue(self, queryset: QuerySet[DiscoveredAsset], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        late = Q(state=DiscoveredAsset.State.NEW, due_on__lt=timezone.localdate())
        return queryset.filter(late) if value else queryset.exclude(late)


class ExposedServiceFilter(django_filters.FilterSet):
    """?open=true&risky=true&system=3&address=203.0.113.5"""

    open = django_filters.BooleanFilter(method="by_open", label=_("Open now"))
    risky = django_filters.BooleanFilter(method="by_risky", label=_("On a risky port"))
    system = IdFilter(field_name="system_id", min_value=1, max_value=2**31 - 1, label=_("System"))
    address = django_filters.CharFilter(method="by_address", label=_("Address"))

    class Meta:
        model = ExposedService
        fields = ["open", "risky", "system", "address"]

    def by_open(self, queryset: QuerySet[ExposedService], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        return queryset.filter(closed_at__isnull=value)

    def by_risky(self, queryset: QuerySet[ExposedService], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        risky = selectors.risky_ports_q()
        return queryset.filter(risky) if value else queryset.exclude(risky)

    def by_address(self, queryset: QuerySet[ExposedService], name: str, value: str) -> Any:
        try:
            return queryset.filter(address=str(ipaddress.ip_address(value.strip())))
        except ValueError:
            raise serializers.ValidationError({name: [_("Not an IP address.")]}) from None
