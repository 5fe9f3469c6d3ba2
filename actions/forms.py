"""Input of the actions and directives pages: parsed here, decided by the services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from accounts.models import BusinessUnit, Domain, User
from config import dates
from systems.models import System

MAX_FILES = 10  # as the API's UpdateIn


def put_errors(
    form: forms.Form, exc: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """A service's ValidationError onto the form: on the field it names (or its alias here) when
    the form has one, otherwise above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        field = (aliases or {}).get(key, key)
        form.add_error(field if field in form.fields else None, errors)


class VersionForm(forms.Form):
    """Every write on an action carries the version the reader saw (the API's If-Match)."""

    version = forms.CharField(widget=forms.HiddenInput, max_length=40)


class TransitionForm(VersionForm):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"class": "form-control"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if isinstance(data, list | tuple):
            files = [super(MultipleFileField, self).clean(item, initial) for item in data]
        else:
            files = [super().clean(data, initial)] if data else []
        files = [f for f in files if f]
        if len(files) > MAX_FILES:
            raise ValidationError(
                _("Attach at most %(count)d files at a time."), params={"count": MAX_FILES}
            )
        return files


class UpdateForm(VersionForm):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )
    percent_done = forms.IntegerField(
        label=_("Percent done"),
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
    # Not "files": a form's `files` is its uploads. The service calls these `files`.
    evidence = MultipleFileField(label=_("Evidence files"), required=False)


class ReplanForm(VersionForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )
    due_on = dates.DayField(
        label=_("New due date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    unit = forms.ModelChoiceField(
        label=_("Owning unit"),
        queryset=BusinessUnit.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=User.objects.none(),
        to_field_name="username",
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    domain = forms.ChoiceField(
        label=_("Domain"),
        choices=[("", "---------"), *Domain.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args: Any, unit_group_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Assignees come from the owning unit; moving the action elsewhere clears its assignee.
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(is_active=True, groups=unit_group_id).order_by(
            "username"
        )

    def changes(self) -> dict[str, Any]:
        """What the re-plan asks for, as the service's keyword arguments (blank means keep)."""
        data = self.cleaned_data
        return {key: data[key] for key in ("due_on", "unit", "assignee", "domain") if data[key]}


class AssignForm(VersionForm):
    """The unit head's choice of who in the unit does the work (blank: the unit as a whole)."""

    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        to_field_name="username",
        required=False,
        empty_label=_("Nobody in particular (the whole unit)"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args: Any, unit_group_id: int | None = None, **kwargs: Any) -> None:
        # Ids of its own: the re-plan form on the same page has an assignee field too.
        kwargs.setdefault("auto_id", "id_assign_%s")
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(is_active=True, groups=unit_group_id).order_by(
            "username"
        )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


ANY, YES, NO = "", "yes", "no"
TRISTATE = [(ANY, _("Any")), (YES, _("Yes")), (NO, _("No"))]


class DirectiveForm(forms.Form):
    """A directive addressed to chosen units, to all units, or to systems by criteria."""

    title = forms.CharField(
        label=_("Title"), max_length=200, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    body = forms.CharField(
        label=_("What must be done"),
        widget=forms.Textarea(attrs={"rows": 5, "class": "form-control"}),
    )
    domain = forms.ChoiceField(
        label=_("Domain"),
        choices=Domain.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    deadline = dates.DayField(
        label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    address = forms.ChoiceField(
        label=_("Addressed to"),
        choices=[
            ("units", _("Chosen business units")),
            ("all_units", _("Every business unit")),
            ("criteria", _("Every system matching the criteria below")),
        ],
        initial="units",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    units = forms.ModelMultipleChoiceField(
        label=_("Business units"),
        queryset=BusinessUnit.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
        required=False,
        widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 6}),
    )
    internet_facing = forms.ChoiceField(
        label=_("Internet-facing"),
        choices=TRISTATE,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    handles_personal_data = forms.ChoiceField(
        label=_("Handles personal data"),
        choices=TRISTATE,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    mfa_enforced = forms.ChoiceField(
        label=_("MFA enforced"),
        choices=TRISTATE,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    environment = forms.MultipleChoiceField(
        label=_("Environment"),
        choices=System.Environment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    criticality_at_least = forms.ChoiceField(
        label=_("Criticality at least"),
        choices=[("", _("Any")), *System.Criticality.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    system_units = forms.ModelMultipleChoiceField(
        label=_("Only systems of these units"),
        queryset=BusinessUnit.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
        required=False,
        widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 4}),
    )

    CRITERIA_FIELDS: Sequence[str] = (
        "internet_facing",
        "handles_personal_data",
        "mfa_enforced",
        "environment",
        "criticality_at_least",
        "system_units",
    )

    def __init__(self, *args: Any, offered_domains: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Offer the domains the reader issues in; any posted domain still reaches the service,
        # which refuses (403) one that is not theirs.
        if offered_domains:
            field = self.fields["domain"]
            assert isinstance(field, forms.ChoiceField)
            field.widget.choices = [c for c in Domain.choices if c[0] in offered_domains]
            self.initial.setdefault("domain", offered_domains[0])

    def criteria(self) -> dict[str, Any]:
        data = self.cleaned_data
        criteria: dict[str, Any] = {}
        for key in ("internet_facing", "handles_personal_data", "mfa_enforced"):
            if data.get(key) in {YES, NO}:
                criteria[key] = data[key] == YES
        if data.get("environment"):
            criteria["environment"] = list(data["environment"])
        if data.get("criticality_at_least"):
            criteria["criticality_at_least"] = data["criticality_at_least"]
        if data.get("system_units"):
            criteria["units"] = [unit.code for unit in data["system_units"]]
        return criteria

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        address = data.get("address")
        if address == "units" and not data.get("units"):
            self.add_error("units", _("Choose at least one business unit."))
        if address == "criteria" and not self.criteria():
            self.add_error("address", _("Choose at least one criterion for the systems."))
        return data

    def draft_arguments(self) -> dict[str, Any]:
        """The service's keyword arguments: exactly one way of addressing the directive."""
        data = self.cleaned_data
        address = data["address"]
        return {
            "title": data["title"],
            "body": data["body"],
            "domain": data["domain"],
            "deadline": data["deadline"],
            "units": list(data["units"]) if address == "units" else [],
            "all_units": address == "all_units",
            "criteria": self.criteria() if address == "criteria" else None,
        }
