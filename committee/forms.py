"""Page input for meetings: agenda edits, attendance, decisions with the actions they create, and
minutes (parsed here, decided by the services)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import BusinessUnit, Domain, User
from committee.models import AgendaItem, Attendance, Ballot, Committee, Decision, WrittenResolution
from config import dates
from config.filters import WrittenOptions
from systems.models import SuspensionOrder

UP, DOWN = "up", "down"


class PageForm(forms.Form):
    """Bootstrap classes on every widget, `is-invalid` on a field with an error, and a service's
    ValidationError shown in place."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = css

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"

    def refusal_in_place(self, exc: ValidationError) -> None:
        """On the field the service names where this form has it, otherwise above the form."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)


# --- The agenda -------------------------------------------------------------------------------


class AgendaItemForm(PageForm):
    """The secretariat's own item (other business)."""

    title = forms.CharField(label=_("Title"), max_length=300)
    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    unit = forms.ModelChoiceField(
        label=_("Business unit"),
        queryset=BusinessUnit.objects.none(),
        required=False,
        empty_label=_("No unit (the whole committee)"),
        help_text=_("A unit reads only the items of its own units."),
        widget=WrittenOptions,  # the chair's 500 units, not a template include each
    )

    def __init__(self, *args: Any, units: QuerySet[BusinessUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ModelChoiceField)
        unit.queryset = units


class RemoveItemForm(PageForm):
    reason = forms.CharField(label=_("Reason for removing"), max_length=4000)


class MoveItemForm(PageForm):
    direction = forms.ChoiceField(choices=[(UP, _("Up")), (DOWN, _("Down"))])

    def order(self, items: Sequence[AgendaItem], item: AgendaItem) -> list[int]:
        """The whole agenda's order with `item` moved one place (the service takes the order)."""
        ids = [i.pk for i in items]
        index = ids.index(item.pk)
        other = index - 1 if self.cleaned_data["direction"] == UP else index + 1
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
        return ids


# --- Attendance -------------------------------------------------------------------------------


class AttendanceForm(PageForm):
    """One line of the attendance sheet: present, absent, or represented by a named delegate.
    The sheet has one per person on the roster, each under the person's own prefix."""

    status = forms.ChoiceField(label=_("Attendance"), choices=Attendance.Status.choices)
    delegate = forms.CharField(
        label=_("Delegate (user name)"),
        max_length=150,
        required=False,
        help_text=_("Only for a represented seat: the office's acting delegate."),
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def clean_delegate(self) -> User | None:
        name = self.cleaned_data["delegate"].strip()
        if not name:
            return None
        user = User.objects.filter(username=name).first()
        if user is None:
            raise ValidationError(_("No one has the user name %(name)s."), params={"name": name})
        return user


# --- Decisions --------------------------------------------------------------------------------

EFFECTS_FOR_EVERY_ITEM = [Decision.Effect.NONE, Decision.Effect.CREATE_ACTIONS]


class DecisionForm(PageForm):
    """What the committee decided on one agenda item."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=Decision.Outcome.choices)
    text = forms.CharField(
        label=_("Resolution"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The resolution as the committee worded it."),
    )
    effect = forms.ChoiceField(label=_("Effect"), choices=Decision.Effect.choices)

    def __init__(self, *args: Any, item: AgendaItem, **kwargs: Any) -> None:
        """Offer the effects that can apply to this item (a suspension's item can ratify or
        overturn it, a risk's item can accept it); the service still decides."""
        super().__init__(*args, **kwargs)
        offered = list(EFFECTS_FOR_EVERY_ITEM)
        if item.suspension_id is not None:
            offered += [Decision.Effect.RATIFY_SUSPENSION, Decision.Effect.OVERTURN_SUSPENSION]
        if item.risk_id is not None:
            offered.append(Decision.Effect.ACCEPT_RISK)
        effect = self.fields["effect"]
        assert isinstance(effect, forms.ChoiceField)
        effect.choices = [(e.value, e.label) for e in offered]


class ActionSpecForm(PageForm):
    """One action the decision creates: the owning unit, what, by when, in which domain."""

    unit = forms.ModelChoiceField(
        label=_("Owning unit"),
        queryset=BusinessUnit.objects.none(),
        to_field_name="code",
        empty_label=_("Choose a unit"),
    )
    title = forms.CharField(label=_("Action"), max_length=200)
    due_on = dates.DayField(
        label=_("Due date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    domain = forms.ChoiceField(label=_("Domain"), choices=Domain.choices, initial=Domain.SECURITY)

    def __init__(self, *args: Any, units: QuerySet[BusinessUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ModelChoiceField)
        unit.queryset = units

    def spec(self) -> dict[str, Any]:
        """As the service takes it: the unit by its code."""
        data = self.cleaned_data
        return {
            "unit": data["unit"].code,
            "title": data["title"],
            "due_on": data["due_on"],
            "domain": data["domain"],
        }


class BaseActionFormSet(forms.BaseFormSet[ActionSpecForm]):
    def specs(self) -> list[dict[str, Any]]:
        """The rows filled in; blank rows are ignored."""
        return [form.spec() for form in self.forms if form.has_changed() and form.cleaned_data]


ActionFormSet = cast(
    type[BaseActionFormSet],
    forms.formset_factory(
        ActionSpecForm, formset=BaseActionFormSet, extra=3, max_num=20, validate_max=True
    ),
)


# --- Minutes ----------------------------------------------------------------------------------


class MinutesForm(PageForm):
    """The draft, against the version the secretariat read (empty for the first draft)."""

    body = forms.CharField(
        label=_("Minutes"), max_length=200_000, widget=forms.Textarea(attrs={"rows": 14})
    )
    version = forms.CharField(required=False, widget=forms.HiddenInput)


class ApproveMinutesForm(PageForm):
    """The chair approves the text as read: the version shown on the page."""

    version = forms.CharField(widget=forms.HiddenInput)


# --- Written resolutions ----------------------------------------------------------------------


class SuspensionChoiceField(forms.ModelChoiceField[SuspensionOrder]):
    def label_from_instance(self, obj: SuspensionOrder) -> str:
        return f"{obj.system.code} — {obj.system.name} ({obj.issued_at:%Y-%m-%d})"


class ResolutionForm(PageForm):
    """The chair's urgent matter, put to the voting seats in writing."""

    committee = forms.ModelChoiceField(
        label=_("Committee"), queryset=Committee.objects.none(), empty_label=None
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("Resolution"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Word it as the members are to pass it."),
    )
    deadline = dates.MomentField(
        label=_("Votes close at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("On the committee's clock; 14 days ahead at most."),
    )
    effect = forms.ChoiceField(label=_("Effect"), choices=WrittenResolution.Effect.choices)
    suspension = SuspensionChoiceField(
        label=_("Suspension awaiting ratification"),
        queryset=SuspensionOrder.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("Only to ratify or overturn it."),
    )

    def __init__(
        self,
        *args: Any,
        committees: QuerySet[Committee],
        suspensions: QuerySet[SuspensionOrder],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        committee = self.fields["committee"]
        suspension = self.fields["suspension"]
        assert isinstance(committee, forms.ModelChoiceField)
        assert isinstance(suspension, forms.ModelChoiceField)
        committee.queryset = committees
        suspension.queryset = suspensions

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        committee, deadline = data.get("committee"), data.get("deadline")
        if committee is not None and deadline is not None:
            # Read on the committee's clock, as its meetings are: the wall time typed.
            data["deadline"] = timezone.make_aware(timezone.make_naive(deadline), committee.zone)
        return data


class VoteForm(PageForm):
    """One seat's vote; the confirmation page posts it again with confirm=yes."""

    seat = forms.CharField(widget=forms.HiddenInput, max_length=40, required=False)
    choice = forms.ChoiceField(
        label=_("Your vote"),
        choices=Ballot.Choice.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    conflict_declared = forms.BooleanField(
        label=_("I have a conflict of interest in this matter, and abstain"), required=False
    )
    conflict_note = forms.CharField(
        label=_("What the conflict of interest is"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        """Asked before the confirmation page, so it never confirms a vote that cannot be cast
        (the service checks the same)."""
        data = super().clean() or {}
        if data.get("conflict_declared"):
            if not str(data.get("conflict_note", "")).strip():
                self.add_error("conflict_note", _("Say what the conflict of interest is."))
            if data.get("choice") not in {"", Ballot.Choice.ABSTAIN}:
                self.add_error(
                    "choice",
                    _("A member with a conflict of interest abstains; leave the vote empty."),
                )
        elif not data.get("choice") and "choice" not in self.errors:
            self.add_error("choice", _("Choose your vote."))
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Radio buttons and a check box, not text boxes.
        self.fields["choice"].widget.attrs["class"] = "form-check-input"
        self.fields["conflict_declared"].widget.attrs["class"] = "form-check-input"
