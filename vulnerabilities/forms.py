"""Page input for findings, the morning-of question and the CISO's deadlines (parsed here,
decided by the services)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import BusinessUnit
from config import dates
from config.filters import PageFilterSet, several
from config.versioning import etag_of
from systems.forms import PageForm
from vulnerabilities import policy
from vulnerabilities.filters import IdFilter
from vulnerabilities.models import Finding, Priority, RemediationDeadline, Severity, Sighting
from vulnerabilities.services.deadlines import MAX_DAYS

LIVE_STATES = [Finding.State.OPEN.value, Finding.State.REVIEW.value]


def _finding_units(request: HttpRequest | None) -> QuerySet[BusinessUnit]:
    """The units the reader has findings in (one query, however many findings)."""
    if request is None:
        return BusinessUnit.objects.none()
    rows = policy.visible_findings(request.user).order_by().values("system__unit")
    return BusinessUnit.objects.filter(pk__in=rows).order_by("code")


class FindingListFilter(PageFilterSet):
    """The findings list's filters; with no state asked for, the live ones (open, to review),
    unless the list is of what a scan saw or closed (then every state)."""

    order = (
        "unit", "system", "severity", "priority", "state", "kev", "overdue",
        "scan", "outcome", "closed_by_scan",
    )  # fmt: skip

    unit = django_filters.ModelChoiceFilter(
        field_name="system__unit",
        to_field_name="code",
        queryset=_finding_units,
        label=_("Business unit"),
    )
    system = django_filters.CharFilter(field_name="system__code", label=_("System"))
    severity = several(Severity.choices, label=_("Severity"))
    priority = several(Priority.choices, label=_("Priority"))
    state = several(Finding.State.choices, label=_("State"))
    kev = django_filters.BooleanFilter(field_name="vulnerability__kev", label=_("Exploited (KEV)"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))
    scan = IdFilter(method="filter_scan", min_value=1, max_value=2**31 - 1, label=_("Seen by scan"))
    outcome = django_filters.ChoiceFilter(
        method="filter_outcome",
        choices=Sighting.Outcome.choices,
        label=_("What that scan made of it"),
    )
    closed_by_scan = IdFilter(
        field_name="closed_by_scan_id", min_value=1, max_value=2**31 - 1, label=_("Closed by scan")
    )

    class Meta:
        model = Finding
        fields = [
            "unit", "system", "severity", "priority", "state", "kev", "overdue",
            "scan", "outcome", "closed_by_scan",
        ]  # fmt: skip

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        of_a_scan = data is not None and (data.get("scan") or data.get("closed_by_scan"))
        if data is not None and not data.getlist("state") and not of_a_scan:
            data = data.copy()
            data.setlist("state", LIVE_STATES)
        super().__init__(data, *args, **kwargs)

    def filter_overdue(self, queryset: QuerySet[Finding], name: str, value: Any) -> Any:
        if value is None:
            return queryset
        overdue = Finding.objects.overdue().values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)

    def filter_scan(self, queryset: QuerySet[Finding], name: str, value: Any) -> Any:
        """The findings the scan saw (with `outcome`: those it saw so)."""
        if value is None:
            return queryset
        sightings = Sighting.objects.filter(scan_id=value, finding=OuterRef("pk"))
        outcome = self.form.cleaned_data.get("outcome")
        if outcome:
            sightings = sightings.filter(outcome=outcome)
        return queryset.filter(Exists(sightings))

    def filter_outcome(self, queryset: QuerySet[Finding], name: str, value: Any) -> Any:
        return queryset  # read with `scan`: what that scan made of each finding


class VersionedForm(PageForm):
    """A decision on a finding, against the version the reader saw (412 if it changed)."""

    version = forms.CharField(widget=forms.HiddenInput)

    @classmethod
    def for_finding(cls, finding: Finding) -> Any:
        return cls(initial={"version": etag_of(finding)}, prefix=cls.prefix)


class FalsePositiveForm(VersionedForm):
    prefix = "fp"

    reason = forms.CharField(
        label=_("Why it is a false positive"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ConfirmFindingForm(VersionedForm):
    prefix = "confirm"


class AcceptRiskForm(VersionedForm):
    prefix = "accept"

    until = dates.DayField(
        label=_("Accepted until"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The finding opens again the day after."),
    )
    reason = forms.CharField(
        label=_("Why the risk is accepted"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ExposureForm(PageForm):
    """The morning-of question: a package and, optionally, the affected versions."""

    package = forms.CharField(
        label=_("Package"),
        max_length=1000,
        help_text=_(
            "A Package URL (pkg:maven/org.apache.logging.log4j/log4j-core) or a CPE 2.3 name."
        ),
    )
    range = forms.CharField(
        label=_("Affected versions"),
        max_length=1000,
        required=False,
        help_text=_("E.g. >=2.0|<2.17.1, or a vers: range. Empty: any version."),
    )


class ExposureDirectiveForm(PageForm):
    """A security directive to the systems the answer named."""

    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("What the units must do"), widget=forms.Textarea(attrs={"rows": 3})
    )
    deadline = dates.DayField(
        label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    package = forms.CharField(widget=forms.HiddenInput)
    range = forms.CharField(widget=forms.HiddenInput, required=False)
    systems = forms.CharField(widget=forms.HiddenInput, required=False)

    def system_ids(self) -> list[int]:
        """The systems the confirmation page listed (carried on its second post)."""
        raw = self.cleaned_data.get("systems") or ""
        return sorted({int(part) for part in raw.split(",") if part.strip().isdigit()})


class DeadlinesForm(PageForm):
    """Days to fix per priority, in one table; only the rows changed are set."""

    def __init__(self, *args: Any, deadlines: list[RemediationDeadline], **kwargs: Any) -> None:
        initial: dict[str, Any] = {}
        for deadline in deadlines:
            initial[f"{deadline.priority}_days"] = deadline.days
            initial[f"{deadline.priority}_version"] = etag_of(deadline)
        super().__init__(*args, initial=initial, **kwargs)
        self.deadlines = deadlines
        for deadline in deadlines:
            self.fields[f"{deadline.priority}_days"] = forms.IntegerField(
                label=_("Days"),
                min_value=1,
                max_value=MAX_DAYS,
                widget=forms.NumberInput(attrs={"class": "form-control"}),
            )
            self.fields[f"{deadline.priority}_version"] = forms.CharField(
                required=False, widget=forms.HiddenInput
            )

    def rows(self) -> list[tuple[RemediationDeadline, forms.BoundField]]:
        return [(d, self[f"{d.priority}_days"]) for d in self.deadlines]

    def changed_rows(self) -> list[tuple[RemediationDeadline, int, str]]:
        """(deadline, days, version read) for each row whose days changed."""
        changed = []
        for deadline in self.deadlines:
            days = self.cleaned_data[f"{deadline.priority}_days"]
            if days != deadline.days:
                version = self.cleaned_data.get(f"{deadline.priority}_version") or None
                changed.append((deadline, days, version or ""))
        return changed
