"""Filters over incidents and risks: the API's, and the pages' richer forms built on them."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Domain
from cases import policy
from cases.models import Incident, Risk, RiskLevel, Severity
from config import dates
from config.filters import ANY, PageFilterSet, several, unit_filter

SCALE = [(n, str(n)) for n in range(1, 6)]
BASIS_CHOICES = [("residual", _("Residual")), ("inherent", _("Inherent"))]

# --- The API's filters ----------------------------------------------------------------------


class IncidentFilter(django_filters.FilterSet):
    unit = django_filters.CharFilter(field_name="unit__code")
    reported_after = dates.MomentFilter(field_name="reported_at", lookup_expr="gte")
    reported_before = dates.MomentFilter(field_name="reported_at", lookup_expr="lt")

    class Meta:
        model = Incident
        fields = ["unit", "status", "severity", "category", "domain", "personal_data_involved"]


class RiskFilter(django_filters.FilterSet):
    unit = django_filters.CharFilter(field_name="unit__code")
    owner = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = Risk
        fields = [
            "unit",
            "owner",
            "status",
            "domain",
            "treatment",
            "above_appetite",
            "residual_level",
        ]


# --- The pages' filters ---------------------------------------------------------------------


class IncidentListFilter(PageFilterSet, IncidentFilter):
    """The incident list: status, severity, unit, domain, category and reported date range."""

    order = (
        "status",
        "severity",
        "unit",
        "domain",
        "category",
        "reported_after",
        "reported_before",
    )
    status = several(Incident.Status.choices, label=_("Status"))
    severity = several(Severity.choices, label=_("Severity"))
    unit = unit_filter(policy.visible_incidents)
    domain = django_filters.ChoiceFilter(choices=Domain.choices, label=_("Domain"))
    category = django_filters.ChoiceFilter(choices=Incident.Category.choices, label=_("Category"))
    reported_after = dates.DayFilter(
        field_name="reported_at", lookup_expr="date__gte", label=_("Reported from")
    )
    reported_before = dates.DayFilter(
        field_name="reported_at", lookup_expr="date__lte", label=_("Reported until")
    )

    class Meta(IncidentFilter.Meta):
        fields = ["status", "severity", "unit", "domain", "category"]


class RiskRegisterFilter(PageFilterSet, RiskFilter):
    """The risk register: status, unit, domain, treatment, level, appetite, and one heat-map
    cell (likelihood and impact on the inherent or residual basis). The heat map counts live
    risks only, so its links also carry live=true."""

    order = (
        "status",
        "unit",
        "domain",
        "treatment",
        "residual_level",
        "above_appetite",
        "live",
        "basis",
        "likelihood",
        "impact",
    )
    status = several(Risk.Status.choices, label=_("Status"))
    unit = unit_filter(policy.visible_risks)
    domain = django_filters.ChoiceFilter(choices=Domain.choices, label=_("Domain"))
    treatment = django_filters.ChoiceFilter(choices=Risk.Treatment.choices, label=_("Treatment"))
    residual_level = several(RiskLevel.choices, label=_("Residual level"))
    above_appetite = django_filters.BooleanFilter(label=_("Above appetite"))
    live = django_filters.BooleanFilter(method="filter_live", label=_("Live (not retired)"))
    # Always one basis or the other (no "Any"): residual first, as a link without one means.
    basis = django_filters.ChoiceFilter(
        choices=BASIS_CHOICES, method="filter_basis", label=_("Heat-map basis"), empty_label=None
    )
    likelihood = django_filters.TypedChoiceFilter(
        choices=[("", ANY), *SCALE], coerce=int, method="filter_cell", label=_("Likelihood")
    )
    impact = django_filters.TypedChoiceFilter(
        choices=[("", ANY), *SCALE], coerce=int, method="filter_cell", label=_("Impact")
    )

    class Meta(RiskFilter.Meta):
        fields = ["status", "unit", "domain", "treatment", "residual_level", "above_appetite"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters.pop("owner")  # the API's filter by username; the page lists by unit

    def filter_live(self, queryset: QuerySet[Risk], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        if value:
            return queryset.exclude(status=Risk.Status.RETIRED)
        return queryset.filter(status=Risk.Status.RETIRED)

    def filter_basis(self, queryset: QuerySet[Risk], name: str, value: str) -> Any:
        return queryset  # read by filter_cell: which pair of scores a cell is on

    def filter_cell(self, queryset: QuerySet[Risk], name: str, value: int | str) -> Any:
        if value in (None, ""):
            return queryset
        basis = self.form.cleaned_data.get("basis") or "residual"
        field = f"residual_{name}" if basis == "residual" else name
        return queryset.filter(**{field: value})
