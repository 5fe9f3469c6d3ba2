"""Vulnerabilities (one flaw under all its names), the advisories that describe them, the CISO's
remediation deadlines, and findings: a system running an affected version of a package."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class Severity(models.TextChoices):
    """CVSS qualitative rating (v3.1 and v4.0 share the bands); unknown without a vector."""

    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")
    NONE = "none", _("None")
    UNKNOWN = "unknown", _("Unknown")


class Priority(models.TextChoices):
    """How soon a finding must be fixed: severity with what we know of the system and of
    exploitation (vulnerabilities.priority); the CISO's deadlines are per priority."""

    P1 = "p1", _("P1 — fix now")
    P2 = "p2", _("P2 — urgent")
    P3 = "p3", _("P3 — planned")
    P4 = "p4", _("P4 — routine")


class Vulnerability(models.Model):
    """One flaw, whatever names the feeds give it (CVE, GHSA, PYSEC, ...): a finding is per
    vulnerability, so a flaw known under three names is one finding."""

    key = models.CharField(
        max_length=100, unique=True, help_text="Its main name: the CVE when it has one."
    )
    summary = models.TextField(blank=True)
    cvss_vector = models.CharField(max_length=200, blank=True)
    cvss_score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.UNKNOWN)
    kev = models.BooleanField(default=False, help_text="Exploited in the wild (CISA KEV).")
    kev_added_on = models.DateField(null=True, blank=True)
    kev_due_on = models.DateField(null=True, blank=True)
    kev_ransomware = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(
        null=True, blank=True, help_text="Every advisory describing it was withdrawn."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "vulnerabilities"
        ordering = ["key"]
        indexes = [
            models.Index(fields=["kev"], condition=Q(kev=True), name="vulnerability_kev_idx"),
        ]

    def __str__(self) -> str:
        return self.key


class Alias(models.Model):
    """One name of a vulnerability. Names are unique: an advisory naming two vulnerabilities'
    aliases merges them into one."""

    name = models.CharField(max_length=100, unique=True)
    vulnerability = models.ForeignKey(
        Vulnerability, on_delete=models.CASCADE, related_name="aliases"
    )

    class Meta:
        verbose_name_plural = "aliases"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Advisory(models.Model):
    """An advisory as a feed published it: OSV record or NVD CVE, with its affected ranges."""

    class Source(models.TextChoices):
        OSV = "osv", _("OSV")
        NVD = "nvd", _("NVD")

    source = models.CharField(max_length=8, choices=Source.choices)
    source_id = models.CharField(max_length=100)
    vulnerability = models.ForeignKey(
        Vulnerability, on_delete=models.PROTECT, related_name="advisories"
    )
    summary = models.TextField(blank=True)
    cvss_vectors = models.JSONField(default=list, blank=True)
    references = models.JSONField(default=list, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    modified_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    digest = models.CharField(max_length=64, help_text="Of what it says; unchanged: not rematched.")
    imported_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "advisories"
        ordering = ["source", "source_id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="advisory_once_per_feed")
        ]

    def __str__(self) -> str:
        return f"{self.source_id} ({self.get_source_display()})"


class AffectedRange(models.Model):
    """Which versions of one package an advisory says are affected, as a univers range."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="ranges")
    package = models.CharField(max_length=300)
    scheme = models.CharField(max_length=16)
    vers = models.CharField(max_length=4000, blank=True)
    fixed = models.JSONField(default=list, blank=True)
    review_only = models.BooleanField(
        default=False, help_text="Every version named: a person reviews it; never a finding."
    )
    platforms = models.JSONField(
        default=list, blank=True, help_text="Package keys of which one must also be present."
    )
    rule = models.CharField(max_length=1000)

    class Meta:
        indexes = [models.Index(fields=["package"], name="affected_range_package_idx")]

    def __str__(self) -> str:
        return f"{self.package} {self.vers}"


class RemediationDeadline(models.Model):
    """How many days the CISO gives to fix a finding of each priority: data, not code."""

    # What the product starts with (the data migration writes these rows).
    DEFAULT_DAYS: dict[str, int] = {
        Priority.P1: 7,
        Priority.P2: 30,
        Priority.P3: 90,
        Priority.P4: 180,
    }

    priority = models.CharField(max_length=4, choices=Priority.choices, unique=True)
    days = models.PositiveSmallIntegerField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["priority"]

    def __str__(self) -> str:
        return f"{self.get_priority_display()}: {self.days} days"


class FindingQuerySet(models.QuerySet["Finding"]):
    def unresolved(self) -> FindingQuerySet:
        """Open findings: what exposes a system now."""
        return self.filter(state=Finding.State.OPEN)

    def overdue(self, today: dt.date | None = None) -> FindingQuerySet:
        """Derived from the due date, never stored."""
        return self.unresolved().filter(due_on__lt=today or timezone.localdate())


class Finding(models.Model):
    """A system runs a version of a package that a vulnerability affects. One per system,
    vulnerability and package (whatever row of the inventory carries it now)."""

    class State(models.TextChoices):
        REVIEW = "review", _("To review")
        OPEN = "open", pgettext_lazy("findings", "Open")
        FIXED = "fixed", _("Fixed")
        FALSE_POSITIVE = "false_positive", _("False positive")
        ACCEPTED = "accepted", _("Risk accepted")
        WITHDRAWN = "withdrawn", _("Withdrawn (advisory withdrawn)")

    system = models.ForeignKey(
        "systems.System", on_delete=models.PROTECT, related_name="findings", db_index=False
    )
    vulnerability = models.ForeignKey(
        Vulnerability, on_delete=models.PROTECT, related_name="findings", db_index=False
    )
    package = models.CharField(max_length=300)
    component = models.ForeignKey(
        "systems.Component",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
        db_index=False,
        help_text="The inventory entry that matched last.",
    )
    version = models.CharField(max_length=100, help_text="The version that matched.")
    affected_range = models.ForeignKey(
        AffectedRange, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    why = models.CharField(max_length=1200, help_text="Which range and rule it matched.")
    fixed_in = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.UNKNOWN)
    priority = models.CharField(max_length=4, choices=Priority.choices, default=Priority.P4)
    due_on = models.DateField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    opened_at = models.DateTimeField()
    fixed_at = models.DateTimeField(null=True, blank=True)
    reopened = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField(blank=True, help_text="Why false positive, or why accepted.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    decided_office = models.CharField(max_length=16, blank=True)
    accepted_until = models.DateField(null=True, blank=True)
    action = models.ForeignKey(
        "actions.Action",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
        db_index=False,
        help_text="The remediation work that covers it.",
    )
    version_number = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "vulnerability", "package"], name="finding_once_per_package"
            ),
            models.CheckConstraint(
                condition=~Q(state="accepted") | Q(accepted_until__isnull=False),
                name="finding_accepted_has_expiry",
            ),
        ]
        indexes = [
            models.Index(fields=["system", "state"], name="finding_system_state_idx"),
            models.Index(fields=["state", "due_on"], name="finding_state_due_idx"),
            models.Index(fields=["vulnerability"], name="finding_vulnerability_idx"),
            models.Index(
                fields=["action"], condition=Q(action__isnull=False), name="finding_action_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vulnerability_id} on {self.system_id} ({self.package})"


class FeedImport(models.Model):
    """One import of an advisory feed: where from, what it changed, or why it was refused.
    Conditional requests remember the feed's ETag and Last-Modified."""

    class Kind(models.TextChoices):
        OSV = "osv", _("OSV")
        NVD = "nvd", _("NVD CVE 2.0")
        KEV = "kev", _("CISA KEV")

    class Outcome(models.TextChoices):
        IMPORTED = "imported", _("Imported")
        UNCHANGED = "unchanged", _("Not modified")
        REFUSED = "refused", _("Refused")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    origin = models.CharField(max_length=1000, help_text="The URL or file read.")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["origin", "-started_at"], name="feed_import_origin_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.origin} ({self.outcome})"
