"""Filters over the system register and suspension orders, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from config.filters import PageFilterSet, several, unit_filter
from systems import policy
from systems.models import SuspensionOrder, System


class SystemFilter(django_filters.FilterSet):
    """The API's filters: ?unit=PUBSEC&status=suspended&internet_facing=true ..."""

    unit = django_filters.CharFilter(field_name="unit__code", label=_("Business unit"))
    environment = django_filters.ChoiceFilter(
        choices=System.Environment.choices, label=_("Environment"), empty_label=_("Any")
    )
    criticality = django_filters.ChoiceFilter(
        choices=System.Criticality.choices, label=_("Criticality"), empty_label=_("Any")
    )
    status = django_filters.ChoiceFilter(
        choices=System.Status.choices, label=_("Status"), empty_label=_("Any")
    )
    registration = django_filters.ChoiceFilter(
        choices=System.Registration.choices, label=_("Registration"), empty_label=_("Any")
    )
    internet_facing = django_filters.BooleanFilter(label=_("Internet-facing"))
    handles_personal_data = django_filters.BooleanFilter(label=_("Personal data"))
    mfa_enforced = django_filters.BooleanFilter(label=_("MFA enforced"))

    class Meta:
        model = System
        fields = [
            "unit",
            "environment",
            "criticality",
            "status",
            "registration",
            "internet_facing",
            "handles_personal_data",
            "mfa_enforced",
        ]


class SystemRegisterFilter(PageFilterSet, SystemFilter):
    """The register page's filters: the API's, as a reader picks them (the units they have
    systems in; several statuses or criticalities at once)."""

    unit = unit_filter(policy.visible_systems)
    status = several(System.Status.choices, label=_("Status"))
    criticality = several(System.Criticality.choices, label=_("Criticality"))


class SuspensionFilter(django_filters.FilterSet):
    system = django_filters.CharFilter(field_name="system__code", label=_("System"))

    class Meta:
        model = SuspensionOrder
        fields = ["system", "status", "ratification", "issued_office"]
