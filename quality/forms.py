"""Page input for quality control: the project list's filters, registering, reports, reviews,
release gates and thresholds (parsed here, decided by the services)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, cast

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts.models import BusinessUnit
from config import dates
from config.filters import PageFilterSet, several, unit_filter
from config.versioning import etag_of
from quality import policy
from quality.checklists import checklist_for
from quality.filters import ProjectFilter
from quality.models import (
    Indicator,
    Phase,
    Project,
    QualityReport,
    ReleaseDecision,
    Review,
    Threshold,
)
from quality.services import FIGURES, Work
from systems.forms import PageForm as SystemsPageForm
from systems.models import System

MONEY_FIELD: dict[str, Any] = {"max_digits": 16, "decimal_places": 2, "min_value": Decimal(0)}
MAX_WORK_ROWS = 5


class PageForm(SystemsPageForm):
    """The register's page form (Bootstrap classes, errors in place), with radio buttons styled
    as Bootstrap check inputs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs["class"] = "form-check-input"


def plain(value: Decimal) -> Decimal:
    """0.9500 as 0.95 and 20.0000 as 20 (never 2E+1), for a field's initial value."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- The list ---------------------------------------------------------------------------------


def _project_systems(request: HttpRequest | None) -> QuerySet[System]:
    """The systems the reader has projects on: one query, however many projects."""
    if request is None:
        return System.objects.none()
    projects = policy.visible_projects(request.user).order_by().values("system")
    return System.objects.filter(pk__in=projects).order_by("code")


class ProjectListFilter(PageFilterSet, ProjectFilter):
    """The list page's filters: the API's, as a reader picks them (the units and systems they
    have projects on, several phases at once)."""

    unit = unit_filter(policy.visible_projects)
    system = django_filters.ModelChoiceFilter(
        field_name="system", to_field_name="code", queryset=_project_systems, label=_("System")
    )
    phase = several(Phase.choices, label=_("Phase"))


# --- Registering ------------------------------------------------------------------------------


class SystemChoiceField(forms.ModelChoiceField):
    """Systems by code and name."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} — {obj.name}"


class RegisterProjectForm(PageForm):
    """A unit registers a project on one of the systems it can see."""

    unit = forms.ModelChoiceField(
        label=_("Business unit"), queryset=BusinessUnit.objects.none(), empty_label=None
    )
    system = SystemChoiceField(
        label=_("System"),
        queryset=System.objects.none(),
        help_text=_("The system the project builds or changes."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    handles_personal_data = forms.BooleanField(
        label=_("Handles personal data"),
        required=False,
        help_text=_(
            "Such a project leaves each phase only after an independent review. A project on a "
            "system with personal data handles it too, whatever is ticked here."
        ),
    )
    planned_budget = forms.DecimalField(label=_("Budget at completion (BAC)"), **MONEY_FIELD)
    planned_start = dates.DayField(label=_("Planned start"), widget=_date_input())
    planned_finish = dates.DayField(label=_("Planned finish"), widget=_date_input())
    size_unit = forms.ChoiceField(
        label=_("Size measured in"),
        choices=Project.SizeUnit.choices,
        initial=Project.SizeUnit.KLOC,
    )

    def __init__(
        self,
        *args: Any,
        offered: QuerySet[BusinessUnit],
        accepted: QuerySet[BusinessUnit],
        systems: QuerySet[System],
        **kwargs: Any,
    ) -> None:
        """`offered`: the units shown (the reader's own); `accepted`: any active unit, so that
        one the reader may not register for reaches the service, which refuses it and says why.
        `systems`: the systems the reader can see."""
        super().__init__(*args, **kwargs)
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ModelChoiceField)
        unit.queryset = accepted
        unit.choices = [(u.pk, f"{u.code} — {u.name}") for u in offered]
        system = self.fields["system"]
        assert isinstance(system, forms.ModelChoiceField)
        system.queryset = systems


# --- Moving on --------------------------------------------------------------------------------


class AdvanceForm(PageForm):
    """Moving the project to its next phase, against the version the reader saw."""

    version = forms.CharField(widget=forms.HiddenInput, max_length=64)


# --- Reports ----------------------------------------------------------------------------------


def _count(label: StrOrPromise) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, required=False, initial=0)


class MonthlyFiguresForm(PageForm):
    """A month's figures; the indicators and their ratings are the service's to derive."""

    planned_value = forms.DecimalField(label=_("Planned value (PV), to date"), **MONEY_FIELD)
    earned_value = forms.DecimalField(label=_("Earned value (EV), to date"), **MONEY_FIELD)
    actual_cost = forms.DecimalField(label=_("Actual cost (AC), to date"), **MONEY_FIELD)
    percent_complete = forms.IntegerField(label=_("Percent complete"), min_value=0, max_value=100)
    tests_planned = _count(_("Tests planned"))
    tests_run = _count(_("Tests run"))
    size = forms.DecimalField(
        label=_("Size (KLOC or function points)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        initial=0,
    )
    defects_planning = _count(_("Defects found in planning"))
    defects_design = _count(_("Defects found in design"))
    defects_build = _count(_("Defects found in build"))
    defects_test = _count(_("Defects found in test"))
    defects_release = _count(_("Defects found after release"))

    def figures(self) -> dict[str, Any]:
        """The figures given; a blank optional one is left to the service's default (0)."""
        return {
            name: self.cleaned_data[name]
            for name in FIGURES
            if self.cleaned_data.get(name) is not None
        }


class ReportForm(MonthlyFiguresForm):
    """A new month's figures, for the month named (this one unless said otherwise)."""

    field_order = ["period"]

    period = dates.DayField(
        label=_("Month reported on"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"period": timezone.localdate().replace(day=1)})
        super().__init__(*args, **kwargs)


class ReportCorrectionForm(MonthlyFiguresForm):
    """The latest report's figures in full, as they should have been, with why they were wrong
    and the version read (a correction over someone else's newer one is refused)."""

    reason = forms.CharField(
        label=_("What was wrong with the figures"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, report: QualityReport, **kwargs: Any) -> None:
        initial: dict[str, Any] = {"version": etag_of(report)}
        for name in FIGURES:
            value = getattr(report, name)
            initial[name] = plain(value) if isinstance(value, Decimal) else value
        super().__init__(*args, initial=initial, **kwargs)


# --- Findings and conditions ------------------------------------------------------------------


class WorkForm(PageForm):
    """One finding or condition: work for the project's unit, with its due date."""

    title = forms.CharField(label=_("Title"), max_length=200)
    due_on = dates.DayField(label=_("Due date"), widget=_date_input())
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 1}),
    )


class BaseWorkFormSet(forms.BaseFormSet[WorkForm]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The service's refusals of the rows as a whole ("give the conditions", "item 2 is due
        # in the past"), shown above them.
        self.work_errors: list[Any] = []

    def works(self) -> list[Work]:
        """The rows filled in, as the services take them; blank rows are ignored."""
        return [
            Work(
                title=form.cleaned_data["title"],
                due_on=form.cleaned_data["due_on"],
                description=form.cleaned_data.get("description", ""),
            )
            for form in self.forms
            if form.has_changed() and form.cleaned_data
        ]


WorkFormSet = cast(
    type[BaseWorkFormSet],
    forms.formset_factory(
        WorkForm,
        formset=BaseWorkFormSet,
        extra=MAX_WORK_ROWS,
        max_num=MAX_WORK_ROWS,
        validate_max=True,
    ),
)


# --- Reviews ----------------------------------------------------------------------------------

ANSWER_CHOICES = [("yes", _("Yes")), ("no", _("No")), ("n/a", _("Not applicable"))]
CHECK_PREFIX = "check_"


class ReviewForm(PageForm):
    """An independent review of the project in its current phase: every checklist item
    answered, a verdict and a summary (the findings come in their own rows)."""

    verdict = forms.ChoiceField(
        label=_("Verdict"), choices=Review.Verdict.choices, widget=forms.RadioSelect
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was reviewed and what was found."),
    )

    def __init__(self, *args: Any, phase: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = checklist_for(phase)
        for key, label in self.items:
            self.fields[CHECK_PREFIX + key] = forms.ChoiceField(
                label=str(label),
                choices=ANSWER_CHOICES,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            )
        self.order_fields([CHECK_PREFIX + key for key, _label in self.items])

    def checklist_fields(self) -> Iterator[forms.BoundField]:
        for key, _label in self.items:
            yield self[CHECK_PREFIX + key]

    def checklist(self) -> dict[str, str]:
        return {key: self.cleaned_data[CHECK_PREFIX + key] for key, _label in self.items}


# --- The release gate -------------------------------------------------------------------------


class ReleaseForm(PageForm):
    """The CQO's (or the chair's) release decision."""

    outcome = forms.ChoiceField(
        label=_("Decision"), choices=ReleaseDecision.Outcome.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )
    override_reason = forms.CharField(
        label=_("Override reason"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, caution: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["override_reason"].help_text = (
            _("Required to release this project (see above); holding it needs none.")
            if caution
            else _(
                "Needed only to release a project rated red, not rated, or rated on old figures."
            )
        )


# --- Thresholds -------------------------------------------------------------------------------


def _ratio_field(label: StrOrPromise) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=12, decimal_places=4)


class ThresholdsForm(PageForm):
    """Green and red for every indicator, in one table; only the rows changed are set."""

    def __init__(self, *args: Any, thresholds: dict[str, Threshold], **kwargs: Any) -> None:
        initial: dict[str, Any] = {}
        for indicator, threshold in thresholds.items():
            initial[f"{indicator}_green"] = plain(threshold.green)
            initial[f"{indicator}_red"] = plain(threshold.red)
            initial[f"{indicator}_version"] = etag_of(threshold)
        super().__init__(*args, initial=initial, **kwargs)
        self.thresholds = thresholds
        for indicator in Indicator:
            self.fields[f"{indicator}_green"] = _ratio_field(_("Green"))
            self.fields[f"{indicator}_red"] = _ratio_field(_("Red"))
            # The version each row was read at: a row someone else changed meanwhile is
            # refused, not overwritten.
            self.fields[f"{indicator}_version"] = forms.CharField(
                required=False, widget=forms.HiddenInput
            )
        # PageForm styled the fields it found at construction: style these too.
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control form-control-sm"

    def rows(self) -> Iterator[tuple[Indicator, forms.BoundField, forms.BoundField]]:
        for indicator in Indicator:
            yield indicator, self[f"{indicator}_green"], self[f"{indicator}_red"]

    def refusal_in_row(self, indicator: str, exc: ValidationError) -> None:
        """A service's ValidationError about one row onto that row's fields."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            field = f"{indicator}_{name}"
            self.add_error(field if field in self.fields else None, errors)

    def changed_rows(self) -> list[tuple[str, Decimal, Decimal, str | None]]:
        """(indicator, green, red, version read) for each row whose green or red differs from
        what is stored now."""
        return [
            (
                str(indicator),
                self.cleaned_data[green.name],
                self.cleaned_data[red.name],
                self.cleaned_data.get(f"{indicator}_version") or None,
            )
            for indicator, green, red in self.rows()
            if green.name in self.changed_data or red.name in self.changed_data
        ]
