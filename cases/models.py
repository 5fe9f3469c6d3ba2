"""Incidents and risks: their timelines, root causes and recurrence-prevention measures."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from accounts.models import Domain
from config.choices import ChoiceLabels


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Incident(ChoiceLabels):
    """Something that went wrong (a breach, an outage, a mis-issued certificate), tracked to closure."""

    class Category(models.TextChoices):
        UNAUTHORIZED_ACCESS = "unauthorized_access", _("Unauthorized access")
        DATA_LEAK = "data_leak", _("Data leak")
        SERVICE_OUTAGE = "service_outage", _("Service outage")
        QUALITY_DEFECT = "quality_defect", _("Quality defect")
        PERSONAL_DATA_MISISSUE = (
            "personal_data_misissue",
            _("Personal data issued to the wrong person"),
        )
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        REPORTED = "reported", _("Reported")
        TRIAGED = "triaged", _("Triaged")
        INVESTIGATING = "investigating", _("Investigating")
        CONTAINED = "contained", _("Contained")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField()
    category = models.CharField(max_length=32, choices=Category.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    domain = models.CharField(max_length=16, choices=Domain.choices, default=Domain.SECURITY)
    unit = models.ForeignKey(
        "accounts.BusinessUnit", on_delete=models.PROTECT, related_name="incidents"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reported_incidents"
    )
    occurred_at = models.DateTimeField(null=True, blank=True)
    detected_at = models.DateTimeField()
    reported_at = models.DateTimeField()
    personal_data_involved = models.BooleanField(default=False)
    affected_systems = models.ManyToManyField(
        "systems.System", blank=True, related_name="incidents"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REPORTED)
    root_cause = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-reported_at", "-pk"]
        indexes = [
            models.Index(fields=["unit", "status"], name="incident_unit_status_idx"),
            # The list's default order (newest first), read by oversight unfiltered.
            models.Index(fields=["-reported_at", "-id"], name="incident_reported_idx"),
            models.Index(fields=["severity", "reported_at"], name="incident_severity_idx"),
            # Open incidents by severity, oversight's dashboard panel: read from the index alone
            # (a quarter of the table), not by scanning every incident ever reported.
            models.Index(
                fields=["severity"], condition=~Q(status="closed"), name="incident_open_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(occurred_at__isnull=True) | Q(occurred_at__lte=models.F("detected_at")),
                name="incident_occurred_before_detected",
            ),
            models.CheckConstraint(
                condition=Q(detected_at__lte=models.F("reported_at")),
                name="incident_detected_before_reported",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class TimelineEntry(models.Model):
    """One line of an incident's story: a note someone wrote, or a change the system recorded."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        STATUS = "status", _("Status change")
        SEVERITY = "severity", _("Severity change")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    at = models.DateTimeField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NOTE)
    text = models.TextField()
    from_value = models.CharField(max_length=32, blank=True)
    to_value = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.incident.reference} {self.at:%Y-%m-%d %H:%M} {self.kind}"


class RecurrenceMeasure(models.Model):
    """What will stop it happening again, and which other systems it must reach (criteria over
    the system register; rolled out as actions by the actions issue)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="measures")
    description = models.TextField()
    criteria = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Measure on {self.incident.reference}"


class RiskLevel(models.TextChoices):
    """NIST SP 800-30 Rev. 1's qualitative scale. Its names carry a context of their own, so the
    five read as one set in every language (a legend, a badge, a filter, a scale); without it
    "Low" and "High" shared a translation with severities and priorities."""

    VERY_LOW = "very_low", pgettext_lazy("risk level", "Very low")
    LOW = "low", pgettext_lazy("risk level", "Low")
    MODERATE = "moderate", pgettext_lazy("risk level", "Moderate")
    HIGH = "high", pgettext_lazy("risk level", "High")
    VERY_HIGH = "very_high", pgettext_lazy("risk level", "Very high")


class RiskMatrixCell(models.Model):
    """One cell of the 5x5 likelihood x impact matrix: data, so a company can replace it."""

    likelihood = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    impact = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    level = models.CharField(max_length=16, choices=RiskLevel.choices)
    review_days = models.PositiveSmallIntegerField(
        help_text="Days until a risk at this level is reviewed again."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["likelihood", "impact"]
        constraints = [
            models.UniqueConstraint(fields=["likelihood", "impact"], name="risk_cell_once"),
            models.CheckConstraint(
                condition=Q(likelihood__gte=1, likelihood__lte=5, impact__gte=1, impact__lte=5),
                name="risk_cell_on_the_grid",
            ),
        ]

    def __str__(self) -> str:
        return f"L{self.likelihood} x I{self.impact}: {self.level}"


class Risk(ChoiceLabels):
    """Something that could go wrong, scored before (inherent) and after (residual) treatment."""

    class Treatment(models.TextChoices):
        MITIGATE = "mitigate", _("Mitigate")
        ACCEPT = "accept", _("Accept")
        TRANSFER = "transfer", _("Transfer")
        AVOID = "avoid", _("Avoid")

    class Status(models.TextChoices):
        IDENTIFIED = "identified", _("Identified")
        ASSESSED = "assessed", _("Assessed")
        TREATING = "treating", _("Treating")
        MONITORED = "monitored", _("Monitored")
        RETIRED = "retired", _("Retired")

    scale = [MinValueValidator(1), MaxValueValidator(5)]

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.ForeignKey(
        "accounts.BusinessUnit", on_delete=models.PROTECT, related_name="risks"
    )
    domain = models.CharField(max_length=16, choices=Domain.choices, default=Domain.SECURITY)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_risks"
    )
    likelihood = models.PositiveSmallIntegerField(validators=scale)
    impact = models.PositiveSmallIntegerField(validators=scale)
    residual_likelihood = models.PositiveSmallIntegerField(validators=scale)
    residual_impact = models.PositiveSmallIntegerField(validators=scale)
    inherent_score = models.PositiveSmallIntegerField(editable=False)
    residual_score = models.PositiveSmallIntegerField(editable=False)
    inherent_level = models.CharField(max_length=16, choices=RiskLevel.choices, editable=False)
    residual_level = models.CharField(max_length=16, choices=RiskLevel.choices, editable=False)
    above_appetite = models.BooleanField(default=False, editable=False)
    treatment = models.CharField(
        max_length=16, choices=Treatment.choices, default=Treatment.MITIGATE
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IDENTIFIED)
    next_review_on = models.DateField()
    # Accepting a risk above appetite is a committee decision, recorded against the owning CxO.
    acceptance_decision = models.ForeignKey(
        "committee.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    accepted_office = models.CharField(max_length=16, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-residual_score", "reference"]
        indexes = [
            models.Index(fields=["unit", "status"], name="risk_unit_status_idx"),
            # The register's default order (worst first), read by oversight unfiltered.
            models.Index(fields=["-residual_score", "-id"], name="risk_residual_idx"),
            # The agenda's risks above appetite and not accepted, worst first: a few in 50,000.
            models.Index(
                fields=["-residual_score", "id"],
                condition=Q(above_appetite=True, acceptance_decision__isnull=True)
                & ~Q(status="retired"),
                name="risk_agenda_idx",
            ),
            # Both heat maps of the live register, read from the index alone.
            models.Index(
                fields=["likelihood", "impact", "residual_likelihood", "residual_impact"],
                condition=~Q(status="retired"),
                name="risk_heatmap_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    likelihood__gte=1,
                    likelihood__lte=5,
                    impact__gte=1,
                    impact__lte=5,
                    residual_likelihood__gte=1,
                    residual_likelihood__lte=5,
                    residual_impact__gte=1,
                    residual_impact__lte=5,
                ),
                name="risk_scores_on_the_grid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class IncidentGroupObjectPermission(GroupObjectPermissionBase):
    """Direct-foreign-key grant on one incident to a group (the owning unit's group)."""

    content_object = models.ForeignKey(Incident, on_delete=models.CASCADE)


class IncidentUserObjectPermission(UserObjectPermissionBase):
    """Direct-foreign-key grant on one incident to one person (e.g. an outside investigator)."""

    content_object = models.ForeignKey(Incident, on_delete=models.CASCADE)


class RiskGroupObjectPermission(GroupObjectPermissionBase):
    """Direct-foreign-key grant on one risk to a group (the owning unit's group)."""

    content_object = models.ForeignKey(Risk, on_delete=models.CASCADE)


class RiskUserObjectPermission(UserObjectPermissionBase):
    """Direct-foreign-key grant on one risk to one person."""

    content_object = models.ForeignKey(Risk, on_delete=models.CASCADE)
