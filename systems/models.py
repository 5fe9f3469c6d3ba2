"""The IT-system register and the suspension orders the CISO issues against systems."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords


class System(models.Model):
    """An IT system a business unit owns: what it exposes, what data it holds, whether it runs."""

    class Environment(models.TextChoices):
        PRODUCTION = "production", _("Production")
        STAGING = "staging", _("Staging")
        DEVELOPMENT = "development", _("Development")
        OTHER = "other", _("Other")

    class Criticality(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        OPERATIONAL = "operational", _("Operational")
        SUSPENDED = "suspended", _("Suspended")
        RETIRED = "retired", _("Retired")

    class Registration(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        DISCOVERED = "discovered", _("Discovered, not yet registered")

    # Unique within the owning unit, not across units: a unit registering a code another unit
    # uses must not learn that the other unit has such a system (the register is scoped).
    # A slug is indexed: lookups by code alone (filters, a project's system) stay cheap.
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    unit = models.ForeignKey(
        "accounts.BusinessUnit", on_delete=models.PROTECT, related_name="systems"
    )
    description = models.TextField(blank=True)
    environment = models.CharField(
        max_length=16, choices=Environment.choices, default=Environment.PRODUCTION
    )
    internet_facing = models.BooleanField(default=False)
    handles_personal_data = models.BooleanField(default=False)
    mfa_enforced = models.BooleanField(default=False)
    criticality = models.CharField(
        max_length=16, choices=Criticality.choices, default=Criticality.MEDIUM
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPERATIONAL)
    registration = models.CharField(
        max_length=16, choices=Registration.choices, default=Registration.REGISTERED
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "code"], name="system_code_unique_in_unit")
        ]
        indexes = [
            models.Index(fields=["unit", "status"], name="system_unit_status_idx"),
            models.Index(
                fields=["internet_facing", "mfa_enforced", "handles_personal_data"],
                name="system_exposure_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class SystemUserObjectPermission(UserObjectPermissionBase):
    """Direct-foreign-key grant of a permission on one system to one person."""

    content_object = models.ForeignKey(System, on_delete=models.CASCADE)


class SystemGroupObjectPermission(GroupObjectPermissionBase):
    """Direct-foreign-key grant of a permission on one system to a group (a unit's group)."""

    content_object = models.ForeignKey(System, on_delete=models.CASCADE)


class SuspensionOrder(models.Model):
    """The CISO's order taking a system out of service at once; the committee ratifies it later."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        LIFTED = "lifted", _("Lifted")

    class Ratification(models.TextChoices):
        PENDING = "pending", _("Awaiting ratification")
        RATIFIED = "ratified", _("Ratified by the committee")
        OVERTURNED = "overturned", _("Overturned by the committee")

    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="suspensions")
    case = models.ForeignKey(
        "cases.Incident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="suspensions",
        help_text="The incident behind the order, if any.",
    )
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    system_status_before = models.CharField(
        max_length=16,
        choices=System.Status.choices,
        default=System.Status.OPERATIONAL,
        help_text="What the system was when suspended; lifting the last order restores it.",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_office = models.CharField(max_length=16)
    issued_at = models.DateTimeField()
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_office = models.CharField(max_length=16, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)
    ratification = models.CharField(
        max_length=16, choices=Ratification.choices, default=Ratification.PENDING
    )
    ratification_decision = models.ForeignKey(
        "committee.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The committee decision that ratified or overturned the order.",
    )
    ratified_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["system"],
                condition=Q(status="active"),
                name="one_active_suspension_per_system",
            ),
            models.CheckConstraint(
                condition=(Q(status="active") & Q(lifted_at__isnull=True))
                | (Q(status="lifted") & Q(lifted_at__isnull=False)),
                name="suspension_lifted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Suspension of {self.system.code} ({self.status})"
