"""Filters over the system register and suspension orders, shared by the API and the pages."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import selectors as accounts_selectors
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


YES_NO_ANY = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]


class SystemRegisterFilter(SystemFilter):
    """The register page's filters: the same, as drop-downs (the units from the directory)."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form = self.form
        units = accounts_selectors.business_units_for(user).order_by("code")
        # Still a free-text filter underneath (as in the API): an unknown code finds nothing.
        form.fields["unit"].widget = forms.Select(
            choices=[("", _("Any")), *((u.code, f"{u.code} — {u.name}") for u in units)]
        )
        for name in ("internet_facing", "handles_personal_data", "mfa_enforced"):
            form.fields[name].widget = forms.Select(choices=YES_NO_ANY)
        for field in form.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"


class SuspensionFilter(django_filters.FilterSet):
    system = django_filters.CharFilter(field_name="system__code", label=_("System"))

    class Meta:
        model = SuspensionOrder
        fields = ["system", "status", "ratification", "issued_office"]
