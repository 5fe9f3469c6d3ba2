"""The forms of the incident and risk pages: they parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import policy as accounts_policy
from accounts.models import BusinessUnit, Domain, User
from cases.models import Incident, Risk, RiskLevel, Severity
from config import dates
from systems import selectors as systems_selectors
from systems.models import System

# The buttons of each lifecycle, in the words a person presses.
INCIDENT_ACTS = {
    "triage": _("Triage"),
    "investigate": _("Start investigating"),
    "contain": _("Mark contained"),
    "resolve": _("Mark resolved"),
    "close": _("Close"),
    "reopen": _("Reopen"),
}
RISK_ACTS = {
    "assess": _("Mark assessed"),
    "treat": _("Start treating"),
    "monitor": _("Move to monitoring"),
    "retire": _("Retire"),
}


def scale_choices() -> list[tuple[int, str]]:
    """1..5 with NIST SP 800-30's qualitative names (read at render time, in the reader's language)."""
    return [
        (n, _("%(value)s — %(name)s") % {"value": n, "name": level.label})
        for n, level in enumerate(RiskLevel, start=1)
    ]


class BootstrapForm(forms.Form):
    """Bootstrap's classes on every widget, and is-invalid on the fields with errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_invalid()

    def mark_invalid(self) -> None:
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"

    def apply(self, exc: ValidationError) -> None:
        """Put a service's refusal on the fields it names (the rest above the form)."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc.messages)
        self.mark_invalid()


def _datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- Incidents ------------------------------------------------------------------------------


class IncidentReportForm(BootstrapForm):
    """What a unit member reports; the units offered are the reporter's own."""

    unit = forms.ModelChoiceField(
        queryset=BusinessUnit.objects.none(), to_field_name="code", label=_("Business unit")
    )
    title = forms.CharField(max_length=200, label=_("Title"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), label=_("What happened")
    )
    category = forms.ChoiceField(choices=Incident.Category.choices, label=_("Category"))
    severity = forms.ChoiceField(choices=Severity.choices, label=_("Severity"))
    domain = forms.ChoiceField(choices=Domain.choices, initial=Domain.SECURITY, label=_("Domain"))
    detected_at = dates.MomentField(widget=_datetime_input(), label=_("Detected at"))
    occurred_at = dates.MomentField(
        required=False,
        widget=_datetime_input(),
        label=_("Occurred at"),
        help_text=_("If known; it cannot be after the detection."),
    )
    personal_data_involved = forms.BooleanField(
        required=False, label=_("Personal data is involved")
    )
    affected_systems = forms.ModelMultipleChoiceField(
        queryset=System.objects.none(),
        to_field_name="code",
        required=False,
        label=_("Affected systems"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = accounts_policy.units_of(user).order_by("code")
        unit_field: Any = self.fields["unit"]
        unit_field.queryset = units
        systems: Any = self.fields["affected_systems"]
        systems.queryset = systems_selectors.systems_for(user).order_by("code")
        systems.widget.attrs["size"] = 6
        if len(units) == 1:
            self.initial.setdefault("unit", units[0].code)
        self.user = user

    def clean(self) -> dict[str, Any]:
        """A code is unique within a unit: where the reporter sees several systems of one code,
        the incident's unit's is the one meant (as in the API)."""
        data = super().clean() or {}
        chosen = data.get("affected_systems")
        if chosen is None or "unit" not in data:
            return data
        named = systems_selectors.systems_named(
            self.user, [system.code for system in chosen], unit=data["unit"]
        )
        if named.ambiguous:
            self.add_error(
                "affected_systems",
                _("Systems of several other units have these codes: %(systems)s.")
                % {"systems": ", ".join(named.ambiguous)},
            )
        data["affected_systems"] = named.systems
        return data


class TransitionForm(BootstrapForm):
    """One of the lifecycle's acts (the button pressed), with an optional note."""

    act = forms.ChoiceField(choices=list(INCIDENT_ACTS.items()))
    note = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Note for the timeline (optional)"),
    )


class TimelineEntryForm(BootstrapForm):
    text = forms.CharField(
        max_length=10000, widget=forms.Textarea(attrs={"rows": 3}), label=_("What happened")
    )
    at = dates.MomentField(
        required=False,
        widget=_datetime_input(),
        label=_("When"),
        help_text=_("Leave empty for now."),
    )


class SeverityForm(BootstrapForm):
    severity = forms.ChoiceField(choices=Severity.choices, label=_("Severity"))
    reason = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), label=_("Why it changes")
    )


class RootCauseForm(BootstrapForm):
    """The root cause, written against the version the reader saw (a stale form is refused)."""

    root_cause = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), label=_("What caused it")
    )
    version = forms.CharField(widget=forms.HiddenInput)


TRISTATE = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]


class MeasureForm(BootstrapForm):
    """A recurrence-prevention measure and the systems it must reach, as criteria over the
    system register (every criterion given narrows the set)."""

    description = forms.CharField(
        max_length=10000, widget=forms.Textarea(attrs={"rows": 3}), label=_("Measure")
    )
    internet_facing = forms.ChoiceField(
        choices=TRISTATE, required=False, label=_("Internet-facing")
    )
    handles_personal_data = forms.ChoiceField(
        choices=TRISTATE, required=False, label=_("Handles personal data")
    )
    mfa_enforced = forms.ChoiceField(choices=TRISTATE, required=False, label=_("MFA enforced"))
    environment = forms.MultipleChoiceField(
        choices=System.Environment.choices,
        required=False,
        label=_("Environment"),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    criticality_at_least = forms.ChoiceField(
        choices=[("", _("Any")), *System.Criticality.choices],
        required=False,
        label=_("Criticality at least"),
    )
    units = forms.ModelMultipleChoiceField(
        queryset=BusinessUnit.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
        required=False,
        label=_("Only these units"),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )

    def criteria(self) -> dict[str, Any]:
        """The criteria language of systems.criteria, from the fields filled in."""
        data = self.cleaned_data
        criteria: dict[str, Any] = {}
        for key in ("internet_facing", "handles_personal_data", "mfa_enforced"):
            if data.get(key):
                criteria[key] = data[key] == "true"
        if data.get("environment"):
            criteria["environment"] = list(data["environment"])
        if data.get("criticality_at_least"):
            criteria["criticality_at_least"] = data["criticality_at_least"]
        if data.get("units"):
            criteria["units"] = [unit.code for unit in data["units"]]
        return criteria


class RolloutForm(BootstrapForm):
    """The directive that rolls a measure out: its deadline and, optionally, its title."""

    deadline = dates.DayField(widget=_date_input(), label=_("Deadline"))
    title = forms.CharField(
        max_length=200,
        required=False,
        label=_("Directive title"),
        help_text=_("Leave empty to name it after the incident and the measure."),
    )

    def clean_deadline(self) -> Any:
        deadline = self.cleaned_data["deadline"]
        if deadline < timezone.localdate():
            raise ValidationError(_("The deadline has already passed."))
        return deadline


# --- Risks ----------------------------------------------------------------------------------


def _people_of(units: QuerySet[BusinessUnit]) -> QuerySet[User]:
    """Heads and members of the units: the people a unit may make a risk's owner."""
    return (
        User.objects.filter(
            Q(memberships__unit__in=units) | Q(headed_units__in=units), is_active=True
        )
        .distinct()
        .order_by("username")
    )


class ScoresForm(BootstrapForm):
    likelihood = forms.TypedChoiceField(coerce=int, label=_("Likelihood (inherent)"))
    impact = forms.TypedChoiceField(coerce=int, label=_("Impact (inherent)"))
    residual_likelihood = forms.TypedChoiceField(
        coerce=int, label=_("Likelihood (residual)"), help_text=_("After treatment.")
    )
    residual_impact = forms.TypedChoiceField(
        coerce=int, label=_("Impact (residual)"), help_text=_("After treatment.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("likelihood", "impact", "residual_likelihood", "residual_impact"):
            field: Any = self.fields[name]
            field.choices = scale_choices()


class RiskForm(ScoresForm):
    """A new risk on the register, for one of the person's units."""

    unit = forms.ModelChoiceField(
        queryset=BusinessUnit.objects.none(), to_field_name="code", label=_("Business unit")
    )
    title = forms.CharField(max_length=200, label=_("Title"))
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Description")
    )
    domain = forms.ChoiceField(choices=Domain.choices, initial=Domain.SECURITY, label=_("Domain"))
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), to_field_name="username", label=_("Owner")
    )
    treatment = forms.ChoiceField(
        choices=Risk.Treatment.choices, initial=Risk.Treatment.MITIGATE, label=_("Treatment")
    )

    field_order = [
        "unit",
        "title",
        "description",
        "domain",
        "owner",
        "likelihood",
        "impact",
        "residual_likelihood",
        "residual_impact",
        "treatment",
    ]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = accounts_policy.units_of(user).order_by("code")
        unit_field: Any = self.fields["unit"]
        unit_field.queryset = units
        owner: Any = self.fields["owner"]
        owner.queryset = _people_of(units)
        owner.label_from_instance = lambda person: f"{person} ({person.username})"
        self.initial.setdefault("owner", user.username)
        for name in ("residual_likelihood", "residual_impact"):
            self.fields[name].required = False
            choices: Any = self.fields[name]
            choices.choices = [("", _("Same as inherent")), *scale_choices()]
            choices.empty_value = None


class ReassessForm(ScoresForm):
    """Re-score or re-describe a risk against the version the reader saw."""

    title = forms.CharField(max_length=200, label=_("Title"))
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Description")
    )
    treatment = forms.ChoiceField(choices=Risk.Treatment.choices, label=_("Treatment"))
    version = forms.CharField(widget=forms.HiddenInput)

    field_order = [
        "title",
        "description",
        "likelihood",
        "impact",
        "residual_likelihood",
        "residual_impact",
        "treatment",
    ]

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class RiskTransitionForm(BootstrapForm):
    act = forms.ChoiceField(choices=list(RISK_ACTS.items()))
