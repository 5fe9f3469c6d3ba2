"""Vulnerabilities (one flaw under all its names), the advisories that describe them, the CISO's
remediation deadlines, findings (a system running an affected version of a package, or a flaw
a scanner saw on it), the scanner reports that saw them, and the attacker's view: services open
on the company's addresses and the assets nobody registered."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from config.choices import ChoiceLabels


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
        # The API's list order (by id across feeds); the constraint's index leads with the feed.
        indexes = [models.Index(fields=["source_id", "id"], name="advisory_source_id_idx")]

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


class Finding(ChoiceLabels):
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
    closed_by_scan = models.ForeignKey(
        "Scan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="closed_findings",
        help_text="The scan that last found it gone where it looked.",
    )
    seen_by_scan = models.BooleanField(
        default=False,
        help_text="The latest scan that looked at its package or port still saw it: it stays "
        "open while this is so, whatever the inventory says.",
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
            # The list's default order: by due date, the undated last (filters.with_sort_keys's
            # due_sort, the same expression, or the index serves nothing).
            models.Index(
                Coalesce("due_on", Value(dt.date(9999, 12, 31))), "id", name="finding_due_idx"
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


class Scan(ChoiceLabels):
    """One scanner report brought in: the file (kept, by its hash: the same file twice is one
    import), what it covered, what it found and changed, or why it was refused."""

    class Format(models.TextChoices):
        TRIVY = "trivy", "Trivy JSON"
        GRYPE = "grype", "Grype JSON"
        NESSUS = "nessus", "Tenable Nessus (.nessus)"
        OPENVAS = "openvas", "Greenbone / OpenVAS XML"
        SARIF = "sarif", "SARIF 2.1.0"
        CYCLONEDX = "cyclonedx", _("CycloneDX with vulnerabilities (VEX)")
        NMAP = "nmap", "nmap XML"
        MASSCAN = "masscan", "masscan JSON"

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        REFUSED = "refused", _("Refused")

    format = models.CharField(max_length=16, choices=Format.choices)
    tool = models.CharField(max_length=200, blank=True, help_text="As the report names it.")
    file = models.FileField(upload_to="scans/%Y/%m/", max_length=300)
    file_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    system = models.ForeignKey(
        "systems.System",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scans",
        help_text="The system the report is of; empty: its hosts are placed by their network "
        "identities.",
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    error = models.TextField(blank=True)
    error_where = models.CharField(max_length=500, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    skipped = models.JSONField(default=dict, blank=True)
    ports_scanned = models.CharField(max_length=2000, blank=True)
    scanned_from = models.DateTimeField(null=True, blank=True, help_text="When the scan ran.")
    scanned_to = models.DateTimeField(null=True, blank=True)
    scanned_at = models.DateTimeField(
        default=timezone.now,
        help_text="When the scan looked, as its report says (its end, else its start); when it "
        "was uploaded, for a report that does not say. What it saw is as of then: an older "
        "scan uploaded later changes no finding a newer one has seen.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    uploaded_office = models.CharField(max_length=16, blank=True)
    uploaded_at = models.DateTimeField()
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            # The same file once for a system, or once as a whole scan (0: no system named):
            # two systems that run one image may each import the same report.
            models.UniqueConstraint(
                "sha256",
                Coalesce("system", 0),
                condition=~Q(state="refused"),
                name="scan_file_once",
            ),
        ]
        # Newest first with the id breaking ties: the list's whole order, so no sort.
        indexes = [models.Index(fields=["-uploaded_at", "-id"], name="scan_uploaded_idx")]

    def __str__(self) -> str:
        return f"{self.get_format_display()} {self.file_name}"

    @property
    def is_surface(self) -> bool:
        """An nmap or masscan scan of addresses: services, not vulnerabilities."""
        return self.format in {self.Format.NMAP, self.Format.MASSCAN}


class ScanHost(models.Model):
    """A host, image or target a scan reported on, what it covered there, and the system it
    was placed on (none: listed as a host the import could not place)."""

    class Placement(models.TextChoices):
        NAMED = "named", _("Named at upload")
        HOSTNAME = "hostname", _("Host name")
        IP = "ip", _("IP address")
        RANGE = "range", _("IP range")
        IMAGE = "image", _("Image digest")

    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="hosts")
    ref = models.CharField(max_length=500)
    target = models.CharField(max_length=500, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    addresses = models.JSONField(default=list, blank=True)
    hostnames = models.JSONField(default=list, blank=True)
    image_digests = models.JSONField(default=list, blank=True)
    up = models.BooleanField(default=True)
    ecosystems = models.JSONField(default=list, blank=True)
    ports_covered = models.BooleanField(default=False)
    problems = models.JSONField(default=list, blank=True)
    system = models.ForeignKey(
        "systems.System",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scan_hosts",
        db_index=False,
    )
    placed_by = models.CharField(max_length=16, choices=Placement.choices, blank=True)
    observations = models.PositiveIntegerField(default=0)
    services = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["scan", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["scan", "ref"], name="scan_host_once"),
        ]
        indexes = [
            models.Index(fields=["system", "scan"], name="scan_host_system_idx"),
        ]

    def __str__(self) -> str:
        return self.ref


class Sighting(models.Model):
    """One scan saw one finding: what the scanner said of it then (its severity and words are
    kept here, so a later scan's change is history, not a new finding)."""

    class Outcome(models.TextChoices):
        NEW = "new", pgettext_lazy("finding", "New")
        REOPENED = "reopened", _("Reopened")
        STILL_OPEN = "still_open", _("Still open")
        SET_ASIDE = "set_aside", _("Set aside (false positive or accepted)")
        NOT_AFFECTED = "not_affected", _("Not affected (VEX)")
        OLDER = "older", _("Seen by an older scan than the one that closed it")

    finding = models.ForeignKey(
        Finding, on_delete=models.PROTECT, related_name="sightings", db_index=False
    )
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="sightings")
    target = models.CharField(
        max_length=500,
        blank=True,
        help_text="What the scanner looked at when it saw it (an image, a file, an address): "
        "only a scan of the same targets closes the finding. Empty on sightings kept before.",
    )
    version = models.CharField(max_length=100, blank=True)
    fixed_in = models.CharField(max_length=100, blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.UNKNOWN)
    title = models.CharField(max_length=500, blank=True)
    affected = models.BooleanField(
        default=True, help_text="False: a VEX statement that the product is not affected."
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)

    class Meta:
        ordering = ["finding", "scan"]
        constraints = [
            models.UniqueConstraint(fields=["finding", "scan"], name="sighting_once_per_scan"),
        ]

    def __str__(self) -> str:
        return f"{self.finding_id} in scan {self.scan_id}"


class DiscoveredAsset(ChoiceLabels):
    """An address open on the internet that no registered system claims: triage work for the
    CISO's office until a unit owns it (registered or attached to a system) or it is
    dismissed with a reason. Unclaimed past its deadline, it goes to the committee."""

    class State(models.TextChoices):
        NEW = "new", _("New")
        ASSIGNED = "assigned", _("Assigned to a unit")
        DISMISSED = "dismissed", _("Dismissed")

    class Reason(models.TextChoices):
        NOT_OURS = "not_ours", _("Not ours")
        DECOMMISSIONED = "decommissioned", _("Decommissioned")

    address = models.GenericIPAddressField(unique=True)
    hostnames = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.NEW)
    due_on = models.DateField(help_text="The CISO's deadline to triage it.")
    unit = models.ForeignKey(
        "accounts.BusinessUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="discovered_assets",
        db_index=False,
    )
    system = models.ForeignKey(
        "systems.System",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="discovered_assets",
        db_index=False,
        help_text="The system it was registered as or attached to.",
    )
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)
    note = models.TextField(blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    first_scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="+", db_index=False)
    last_scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="+", db_index=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    decided_office = models.CharField(max_length=16, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    version_number = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="dismissed") | ~Q(reason=""),
                name="discovered_asset_dismissed_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(state="assigned") | Q(unit__isnull=False),
                name="discovered_asset_assigned_has_unit",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_on"], name="discovered_asset_state_idx")]

    def __str__(self) -> str:
        return self.address


class ExposedService(models.Model):
    """A port a scan of the company's addresses found open: on a registered system or on a
    discovered asset. Closed when a later scan that looked at that port found it shut."""

    address = models.GenericIPAddressField()
    protocol = models.CharField(max_length=8)
    port = models.PositiveIntegerField()
    name = models.CharField(max_length=100, blank=True)
    product = models.CharField(max_length=300, blank=True)
    system = models.ForeignKey(
        "systems.System",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exposed_services",
        db_index=False,
    )
    asset = models.ForeignKey(
        DiscoveredAsset,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="services",
        db_index=False,
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    last_scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="+", db_index=False)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["address", "protocol", "port"]
        constraints = [
            models.UniqueConstraint(
                fields=["address", "protocol", "port"], name="exposed_service_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["system"], condition=Q(closed_at__isnull=True), name="exposed_open_idx"
            ),
            models.Index(
                fields=["asset"], condition=Q(asset__isnull=False), name="exposed_asset_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} {self.protocol}/{self.port}"
