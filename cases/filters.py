"""Filters over incidents and risks: the API's, and the pages' richer forms built on them."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import BusinessUnit, Domain
from cases import policy
from cases.models import Incident, Risk, RiskLevel, Severity
from config import dates

SCALE = [(n, str(n)) for n in range(1, 6)]
BASIS_CHOICES = [("inherent", _("Inherent")), ("residual", _("Residual"))]

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


def _incident_units(request: HttpRequest | None) -> QuerySet[BusinessUnit]:
    """Units the reader has incidents of: a unit member is offered their own units only."""
    if request is None:
        return BusinessUnit.objects.none()
    visible = policy.visible_incidents(request.user).order_by().values("unit")
    return BusinessUnit.objects.filter(pk__in=visible).order_by("code")


def _risk_units(request: HttpRequest | None) -> QuerySet[BusinessUnit]:
    if request is None:
        return BusinessUnit.objects.none()
    visible = policy.visible_risks(request.user).order_by().values("unit")
    return BusinessUnit.objects.filter(pk__in=visible).order_by("code")


class _PageFilterMixin:
    """Bootstrap's small controls on every filter field, in the order the page lists them."""

    order: tuple[str, ...] = ()
    form: Any

    def style(self) -> None:
        for field in self.form.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = (
                "form-select form-select-sm" if select else "form-control form-control-sm"
            )
        self.form.order_fields(self.order)


class AnyYesNo(forms.NullBooleanSelect):
    """A yes/no filter whose empty choice reads "Any" (Django's says "Unknown")."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("unknown", _("Any")), ("true", _("Yes")), ("false", _("No"))]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class IncidentListFilter(_PageFilterMixin, IncidentFilter):
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
    status = django_filters.ChoiceFilter(
        choices=Incident.Status.choices, label=_("Status"), empty_label=_("Any status")
    )
    severity = django_filters.ChoiceFilter(
        choices=Severity.choices, label=_("Severity"), empty_label=_("Any severity")
    )
    unit = django_filters.ModelChoiceFilter(
        field_name="unit",
        to_field_name="code",
        queryset=_incident_units,
        label=_("Unit"),
        empty_label=_("Any unit"),
    )
    domain = django_filters.ChoiceFilter(
        choices=Domain.choices, label=_("Domain"), empty_label=_("Any domain")
    )
    category = django_filters.ChoiceFilter(
        choices=Incident.Category.choices, label=_("Category"), empty_label=_("Any category")
    )
    reported_after = dates.DayFilter(
        field_name="reported_at",
        lookup_expr="date__gte",
        label=_("Reported from"),
        widget=_date_input(),
    )
    reported_before = dates.DayFilter(
        field_name="reported_at",
        lookup_expr="date__lte",
        label=_("Reported until"),
        widget=_date_input(),
    )

    class Meta(IncidentFilter.Meta):
        fields = ["status", "severity", "unit", "domain", "category"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style()


class RiskRegisterFilter(_PageFilterMixin, RiskFilter):
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
    status = django_filters.ChoiceFilter(
        choices=Risk.Status.choices, label=_("Status"), empty_label=_("Any status")
    )
    unit = django_filters.ModelChoiceFilter(
        field_name="unit",
        to_field_name="code",
        queryset=_risk_units,
        label=_("Unit"),
        empty_label=_("Any unit"),
    )
    domain = django_filters.ChoiceFilter(
        choices=Domain.choices, label=_("Domain"), empty_label=_("Any domain")
    )
    treatment = django_filters.ChoiceFilter(
        choices=Risk.Treatment.choices, label=_("Treatment"), empty_label=_("Any treatment")
    )
    residual_level = django_filters.ChoiceFilter(
        choices=RiskLevel.choices, label=_("Residual level"), empty_label=_("Any level")
    )
    above_appetite = django_filters.BooleanFilter(label=_("Above appetite"), widget=AnyYesNo)
    live = django_filters.BooleanFilter(
        method="filter_live", label=_("Live (not retired)"), widget=AnyYesNo
    )
    basis = django_filters.ChoiceFilter(
        choices=BASIS_CHOICES,
        method="filter_basis",
        label=_("Heat-map basis"),
        empty_label=_("Residual"),
    )
    likelihood = django_filters.TypedChoiceFilter(
        choices=[("", _("Any likelihood")), *SCALE],
        coerce=int,
        method="filter_cell",
        label=_("Likelihood"),
    )
    impact = django_filters.TypedChoiceFilter(
        choices=[("", _("Any impact")), *SCALE],
        coerce=int,
        method="filter_cell",
        label=_("Impact"),
    )

    class Meta(RiskFilter.Meta):
        fields = ["status", "unit", "domain", "treatment", "residual_level", "above_appetite"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters.pop("owner")  # the API's filter by username; the page lists by unit
        self.style()

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
