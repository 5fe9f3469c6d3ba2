"""Page input for the system register: register, correct, suspend and lift (parsed here, decided
by the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import BusinessUnit
from systems.models import System

CONFIRMED = "yes"


class PageForm(forms.Form):
    """Bootstrap classes on every widget, and `is-invalid` on a field once it has an error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if widget.is_hidden:
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = css

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"

    def refusal_in_place(self, exc: ValidationError) -> None:
        """A service's ValidationError onto this form: on its fields where it names one of them,
        otherwise above the form."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)


class SystemFactsForm(PageForm):
    """What the register says about a system that its unit may state and correct."""

    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    environment = forms.ChoiceField(
        label=_("Environment"),
        choices=System.Environment.choices,
        initial=System.Environment.PRODUCTION,
    )
    criticality = forms.ChoiceField(
        label=_("Criticality"),
        choices=System.Criticality.choices,
        initial=System.Criticality.MEDIUM,
    )
    internet_facing = forms.BooleanField(
        label=_("Internet-facing"),
        required=False,
        help_text=_("Reachable from the internet, directly or through a proxy."),
    )
    handles_personal_data = forms.BooleanField(label=_("Handles personal data"), required=False)
    mfa_enforced = forms.BooleanField(
        label=_("MFA enforced"),
        required=False,
        help_text=_("Every sign-in needs a second factor."),
    )


class RegisterSystemForm(SystemFactsForm):
    """A unit puts one of its systems on the register."""

    field_order = ["unit", "code", "name"]

    code = forms.SlugField(
        label=_("Code"),
        max_length=64,
        help_text=_(
            "A short identifier, unique within the unit: letters, digits, hyphens and underscores."
        ),
    )
    unit = forms.ModelChoiceField(
        label=_("Business unit"), queryset=BusinessUnit.objects.none(), empty_label=None
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (System.Status.OPERATIONAL.value, System.Status.OPERATIONAL.label),
            (System.Status.PLANNED.value, System.Status.PLANNED.label),
        ],
    )

    def __init__(
        self,
        *args: Any,
        offered: QuerySet[BusinessUnit],
        accepted: QuerySet[BusinessUnit],
        **kwargs: Any,
    ) -> None:
        """`offered`: the units shown (the reader's own); `accepted`: any active unit, so that
        a unit someone may not register for reaches the service, which refuses it and says why."""
        super().__init__(*args, **kwargs)
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ModelChoiceField)
        unit.queryset = accepted
        unit.choices = [(u.pk, f"{u.code} — {u.name}") for u in offered]


class EditSystemForm(SystemFactsForm):
    """The owning unit corrects the facts, against the version it read."""

    version = forms.CharField(widget=forms.HiddenInput)


class SuspendForm(PageForm):
    """The CISO's (or the chair's) suspension order; `confirm` is set on the confirmation step."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The unit and the committee read this."),
    )
    case = forms.CharField(
        label=_("Incident reference"),
        max_length=20,
        required=False,
        help_text=_("Optional, e.g. INC-2026-0001."),
    )
    confirm = forms.CharField(required=False, widget=forms.HiddenInput)

    @property
    def confirmed(self) -> bool:
        return self.cleaned_data.get("confirm") == CONFIRMED


class LiftForm(PageForm):
    """Lifting an active order; `confirm` is set on the confirmation step."""

    reason = forms.CharField(
        label=_("Reason for lifting"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.CharField(required=False, widget=forms.HiddenInput)

    @property
    def confirmed(self) -> bool:
        return self.cleaned_data.get("confirm") == CONFIRMED
