"""Development projects, their quality reports and ratings, release gates and phase reviews."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from config.choices import ChoiceLabels


class Phase(models.TextChoices):
    """A project's lifecycle, in order (docs/architecture.md, Lifecycles)."""

    PLANNING = "planning", _("Planning")
    DESIGN = "design", _("Design")
    BUILD = "build", _("Build")
    TEST = "test", _("Test")
    RELEASE = "release", _("Release")


PHASES = [str(p) for p in Phase]
# The one declaration of the lifecycle: where each phase goes next. Test goes to release only
# through the CQO's release gate (services.decide_release), never by the unit's own move.
NEXT_PHASE = {
    Phase.PLANNING: Phase.DESIGN,
    Phase.DESIGN: Phase.BUILD,
    Phase.BUILD: Phase.TEST,
    Phase.TEST: Phase.RELEASE,
}


class Rag(models.TextChoices):
    """Green, amber, red; empty when there is nothing to rate yet."""

    GREEN = "green", _("Green")
    AMBER = "amber", _("Amber")
    RED = "red", _("Red")
    UNRATED = "", _("Not rated")


RAG_ORDER = {Rag.UNRATED: 0, Rag.GREEN: 1, Rag.AMBER: 2, Rag.RED: 3}


class Indicator(models.TextChoices):
    """The derived indicators a report is rated on, each against the CQO's thresholds."""

    SPI = "spi", _("Schedule performance index (SPI)")
    CPI = "cpi", _("Cost performance index (CPI)")
    # xgettext:no-python-format
    SV = "sv", _("Schedule variance, % of planned value")
    # xgettext:no-python-format
    CV = "cv", _("Cost variance, % of earned value")
    # xgettext:no-python-format
    EAC = "eac", _("Estimate at completion, % over budget")
    TEST_DENSITY = "test_density", _("Test density (tests run per size unit)")
    # xgettext:no-python-format
    DEFECT_DETECTION = "defect_detection", _("Defect detection rate, % found before release")


# An estimate over budget is worse the higher it is; every other indicator is better higher.
LOWER_IS_BETTER = frozenset({Indicator.EAC})


class Project(ChoiceLabels):
    """A development project that builds or changes a registered system, owned by a unit."""

    class SizeUnit(models.TextChoices):
        KLOC = "kloc", _("KLOC (thousand lines of code)")
        FP = "fp", _("Function points")

    reference = models.CharField(max_length=20, unique=True, editable=False)
    name = models.CharField(max_length=200)
    unit = models.ForeignKey(
        "accounts.BusinessUnit", on_delete=models.PROTECT, related_name="projects"
    )
    system = models.ForeignKey("systems.System", on_delete=models.PROTECT, related_name="projects")
    description = models.TextField(blank=True)
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.PLANNING)
    handles_personal_data = models.BooleanField(
        default=False,
        help_text="A project with personal data leaves each phase only after an independent "
        "review.",
    )
    planned_budget = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        help_text="Budget at completion (BAC), in the group's currency.",
    )
    planned_start = models.DateField()
    planned_finish = models.DateField()
    size_unit = models.CharField(max_length=8, choices=SizeUnit.choices, default=SizeUnit.KLOC)
    rag = models.CharField(
        max_length=8,
        choices=Rag.choices,
        default=Rag.UNRATED,
        blank=True,
        help_text="The rating of the latest report.",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["reference"]
        indexes = [models.Index(fields=["unit", "phase"], name="project_unit_phase_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_finish__gte=models.F("planned_start")),
                name="project_finishes_after_start",
            ),
            models.CheckConstraint(
                condition=Q(planned_budget__gte=0), name="project_budget_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.name}"


class ProjectUserObjectPermission(UserObjectPermissionBase):
    """Direct-foreign-key grant of a permission on one project to one person."""

    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)


class ProjectGroupObjectPermission(GroupObjectPermissionBase):
    """Direct-foreign-key grant of a permission on one project to a group (a unit's group)."""

    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)


class QualityReport(models.Model):
    """What a unit reports for one project and one period (a month), and what follows from it:
    the Earned Value indicators, test density and defect detection, each rated."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="reports")
    period = models.DateField(help_text="The first day of the month reported on.")
    phase = models.CharField(
        max_length=16, choices=Phase.choices, help_text="The project's phase when reported."
    )
    planned_value = models.DecimalField(max_digits=16, decimal_places=2)
    earned_value = models.DecimalField(max_digits=16, decimal_places=2)
    actual_cost = models.DecimalField(max_digits=16, decimal_places=2)
    percent_complete = models.PositiveSmallIntegerField()
    tests_planned = models.PositiveIntegerField(default=0)
    tests_run = models.PositiveIntegerField(default=0)
    size = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, help_text="KLOC or function points."
    )
    defects_planning = models.PositiveIntegerField(default=0)
    defects_design = models.PositiveIntegerField(default=0)
    defects_build = models.PositiveIntegerField(default=0)
    defects_test = models.PositiveIntegerField(default=0)
    defects_release = models.PositiveIntegerField(
        default=0, help_text="Found after release, in service."
    )
    # Derived when submitted (quality.evm); empty where the formula has no value (no planned
    # value yet, nothing spent, nothing earned).
    schedule_variance = models.DecimalField(max_digits=16, decimal_places=2)
    cost_variance = models.DecimalField(max_digits=16, decimal_places=2)
    spi = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    cpi = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    estimate_at_completion = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True
    )
    estimate_to_complete = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True
    )
    test_density = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    defect_detection_rate = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True
    )
    ratings = models.JSONField(
        default=dict,
        blank=True,
        help_text="Indicator → green/amber/red, under the thresholds "
        "in force when the report was submitted (or last corrected).",
    )
    rag = models.CharField(max_length=8, choices=Rag.choices, default=Rag.UNRATED, blank=True)
    trending = models.JSONField(
        default=list, blank=True, help_text="Indicators falling three periods running."
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField()
    # The latest report may be corrected by its unit (services.correct_report): the figures
    # are replaced and rated again; the history keeps what was first reported.
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    corrected_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["project", "period"]
        constraints = [
            models.UniqueConstraint(fields=["project", "period"], name="one_report_per_period"),
            models.CheckConstraint(
                condition=Q(percent_complete__lte=100), name="report_percent_at_most_100"
            ),
            models.CheckConstraint(
                condition=Q(planned_value__gte=0) & Q(earned_value__gte=0) & Q(actual_cost__gte=0),
                name="report_values_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(tests_run__lte=models.F("tests_planned")) | Q(tests_planned=0),
                name="report_tests_run_within_planned",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.reference} {self.period:%Y-%m}"

    @property
    def defects_by_phase(self) -> dict[str, int]:
        return {phase: getattr(self, f"defects_{phase}") for phase in PHASES}


class Threshold(models.Model):
    """Where an indicator turns amber and red: set by the CQO, data rather than code. For an
    indicator better higher, green at `green` or above and red below `red`; for one better
    lower (LOWER_IS_BETTER), green at `green` or below and red above `red`."""

    indicator = models.CharField(max_length=20, choices=Indicator.choices, unique=True)
    green = models.DecimalField(max_digits=12, decimal_places=4)
    red = models.DecimalField(max_digits=12, decimal_places=4)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["indicator"]

    def __str__(self) -> str:
        return f"{self.get_indicator_display()}: green {self.green}, red {self.red}"

    @property
    def lower_is_better(self) -> bool:
        return self.indicator in LOWER_IS_BETTER


class QualityFlag(models.Model):
    """A project turned red, or trending there, brought to the CQO and to the committee's next
    agenda. One open flag a project: it stays open while the project stays in trouble, so a
    project is raised once, not every month; a healthy report clears it. A flag cleared by its
    own report (corrected to healthy) is withdrawn: it was a mistake and comes to no agenda."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="flags")
    report = models.ForeignKey(QualityReport, on_delete=models.PROTECT, related_name="+")
    red = models.JSONField(default=list, blank=True, help_text="Indicators rated red.")
    trending = models.JSONField(
        default=list, blank=True, help_text="Indicators falling three periods running."
    )
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by_report = models.ForeignKey(
        QualityReport, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [models.Index(fields=["raised_at"], name="quality_flag_raised_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(cleared_at__isnull=True),
                name="one_open_flag_per_project",
            )
        ]

    def __str__(self) -> str:
        return f"{self.project.reference} flagged {self.raised_at:%Y-%m-%d}"


# A flag cleared by its own report, corrected to healthy: withdrawn, it was a mistake.
WITHDRAWN = Q(cleared_by_report=models.F("report"))


class Review(ChoiceLabels):
    """An independent review by a quality reviewer from another unit: at planning, the
    planning-stage review of the plan; at each later phase, a check that what was built follows
    it. Findings become actions for the project's unit."""

    class Verdict(models.TextChoices):
        PASSED = "passed", _("Passed")
        PASSED_WITH_FINDINGS = "passed_with_findings", _("Passed with findings")
        FAILED = "failed", _("Failed")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="reviews")
    phase = models.CharField(max_length=16, choices=Phase.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    checklist = models.JSONField(help_text="Checklist item → yes, no or n/a.")
    verdict = models.CharField(max_length=24, choices=Verdict.choices)
    summary = models.TextField()
    recorded_at = models.DateTimeField()
    findings = models.ManyToManyField(
        "actions.Action",
        related_name="+",
        blank=True,
        help_text="The actions the review's findings became.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["project", "recorded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.project.reference} {self.phase} review: {self.verdict}"

    @property
    def passed(self) -> bool:
        return self.verdict != self.Verdict.FAILED


class ReleaseDecision(ChoiceLabels):
    """The release gate: the CQO (or the chair) approves, holds, or approves with conditions.
    A project rated red or not rated is approved only with a recorded override reason (so is one
    rated on old figures: the service asks that); conditions become actions."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved")
        HELD = "held", pgettext_lazy("release decision", "Held")
        APPROVED_WITH_CONDITIONS = "approved_with_conditions", _("Approved with conditions")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="release_decisions")
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    reason = models.TextField()
    override_reason = models.TextField(
        blank=True,
        help_text="Why a project rated red, not rated, or rated on old figures is released all "
        "the same.",
    )
    rag_at_decision = models.CharField(max_length=8, choices=Rag.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_office = models.CharField(max_length=16)
    decided_at = models.DateTimeField()
    conditions = models.ManyToManyField(
        "actions.Action",
        related_name="+",
        blank=True,
        help_text="The actions the release's conditions became.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["project", "decided_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(rag_at_decision__in=[Rag.RED, Rag.UNRATED])
                | Q(outcome="held")
                | ~Q(override_reason=""),
                name="unproven_release_needs_override_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.project.reference} release {self.outcome}"

    @property
    def releases(self) -> bool:
        return self.outcome != self.Outcome.HELD
