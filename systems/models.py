"""The IT-system register and the suspension orders the CISO issues against systems."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from config.choices import ChoiceLabels


class System(ChoiceLabels):
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
    # Indexed with the id (Meta): lookups by code alone (filters, a project's system) and the
    # register in its order; no LIKE index, nothing searches codes by pattern.
    code = models.SlugField(max_length=64, db_index=False)
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
            models.Index(fields=["code", "id"], name="system_code_idx"),
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


class SuspensionOrder(ChoiceLabels):
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


class SbomUpload(models.Model):
    """A software bill of materials a unit uploaded for a system: the entries it supplied
    replace those the previous SBOM of the same subject supplied."""

    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="sboms")
    subject = models.CharField(
        max_length=500, help_text="What the SBOM describes (its metadata component or serial)."
    )
    spec_version = models.CharField(max_length=8)
    serial_number = models.CharField(max_length=200, blank=True)
    bom_version = models.PositiveIntegerField(default=1)
    filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    entries = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"SBOM {self.subject or self.sha256[:12]} for {self.system.code}"


class ComponentQuerySet(models.QuerySet["Component"]):
    def current(self) -> ComponentQuerySet:
        """What the systems run now; removed entries stay as history."""
        return self.filter(removed_at__isnull=True)


class Component(ChoiceLabels):
    """One piece of software a system runs: a Package URL or, for operating systems, firmware
    and appliances, a CPE 2.3 name, with its version and where the entry came from. Entries
    are never deleted: a removal stamps `removed_at`, so the inventory's history is kept."""

    class Kind(models.TextChoices):
        PURL = "purl", _("Package URL")
        CPE = "cpe", _("CPE 2.3 name")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Typed by hand")
        SBOM = "sbom", _("SBOM")
        SCANNER = "scanner", _("Scanner")

    system = models.ForeignKey(
        System, on_delete=models.PROTECT, related_name="components", db_index=False
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    package = models.CharField(
        max_length=300, help_text="The package key matching compares (no version)."
    )
    scheme = models.CharField(
        max_length=16, blank=True, help_text="Whose rules compare its versions; empty: unknown."
    )
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=100)
    identifier = models.CharField(max_length=1000, help_text="The Package URL or CPE as written.")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    sbom = models.ForeignKey(
        SbomUpload,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="components",
        db_index=False,
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    added_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = ComponentQuerySet.as_manager()

    class Meta:
        ordering = ["system", "package", "version", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "identifier"],
                condition=Q(removed_at__isnull=True),
                name="component_once_per_system",
            ),
        ]
        indexes = [
            # The morning-of question and incremental matching: who runs this package now.
            models.Index(
                fields=["package", "system"],
                condition=Q(removed_at__isnull=True),
                name="component_current_package_idx",
            ),
            # A system's inventory in the list's order (package, then id to break ties).
            models.Index(
                fields=["system", "package", "id"],
                condition=Q(removed_at__isnull=True),
                name="component_current_system_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class NetworkIdentity(models.Model):
    """How a system is known on the network (host name, address, range, image digest), valid
    from/to: what scans of the company's addresses are attributed by."""

    class Kind(models.TextChoices):
        HOSTNAME = "hostname", _("Host name")
        IP = "ip", _("IP address")
        RANGE = "range", _("IP range")
        IMAGE = "image", _("Container image digest")

    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="network_identities")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=300)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["system", "kind", "value"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="network_identity_valid_order",
            ),
        ]
        indexes = [models.Index(fields=["kind", "value"], name="network_identity_value_idx")]

    def __str__(self) -> str:
        return self.value
