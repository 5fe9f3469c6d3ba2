"""Owned work: actions with a unit, a due date and evidence; the engine knows nothing of why."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from accounts.models import Domain
from config.choices import ChoiceLabels


class Directive(ChoiceLabels):
    """An order from the CISO (security), the CQO (quality) or the chair (any), addressed to
    business units or to the systems that match criteria; issuing it fans out one action each."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    body = models.TextField()
    domain = models.CharField(max_length=16, choices=Domain.choices, default=Domain.SECURITY)
    deadline = models.DateField()
    all_units = models.BooleanField(default=False)
    units = models.ManyToManyField("accounts.BusinessUnit", blank=True, related_name="directives")
    criteria = models.JSONField(
        default=dict, blank=True, help_text="Criteria over the system register (systems.criteria)."
    )
    origin_measure = models.ForeignKey(
        "cases.RecurrenceMeasure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="directives",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_office = models.CharField(max_length=16, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdraw_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[units])

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class ActionQuerySet(models.QuerySet["Action"]):
    def open(self) -> ActionQuerySet:
        """Work not yet finished: neither verified nor cancelled."""
        return self.exclude(status__in=[Action.Status.VERIFIED, Action.Status.CANCELLED])

    def overdue(self, today: dt.date | None = None) -> ActionQuerySet:
        """Overdue is derived from the due date, never stored as a status."""
        return self.open().filter(due_on__lt=today or timezone.localdate())


# Links most actions leave empty: indexed only where set (the rows each origin lists).
SELDOM_SET_LINKS = [
    "system", "origin_incident", "origin_measure", "directive", "origin_decision", "origin_project",
]  # fmt: skip
UNSEARCHED_IN_HISTORY = [
    "reference", "unit", "assignee", "system", "origin_incident", "origin_measure", "directive",
    "origin_decision", "origin_project", "issued_by", "submitted_by", "verified_by",
]  # fmt: skip


class Action(ChoiceLabels):
    """A piece of owned work: a business unit must do it by a date and show evidence."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        SUBMITTED = "submitted", _("Submitted for verification")
        RETURNED = "returned", _("Returned for more work")
        VERIFIED = "verified", _("Verified")
        CANCELLED = "cancelled", _("Cancelled")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    # Unique by a constraint, not unique=True: that also builds a LIKE index on PostgreSQL, and a
    # reference is only ever looked up whole.
    reference = models.CharField(max_length=20, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    domain = models.CharField(
        max_length=16,
        choices=Domain.choices,
        default=Domain.SECURITY,
        help_text="Decides which office verifies the action.",
    )
    # Every index here is written by every insert and by every update that cannot stay on its
    # page (an escalation, a transition): links led by a composite index below, or never
    # searched, carry none of their own; links that are mostly empty are indexed where set.
    unit = models.ForeignKey(
        "accounts.BusinessUnit", on_delete=models.PROTECT, related_name="actions", db_index=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_actions",
        db_index=False,
    )
    due_on = models.DateField()
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    system = models.ForeignKey(
        "systems.System",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="actions",
        db_index=False,
    )
    # Why the action exists. actions sits below cases and committee: string foreign keys.
    origin_incident = models.ForeignKey(
        "cases.Incident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="actions",
        db_index=False,
    )
    origin_measure = models.ForeignKey(
        "cases.RecurrenceMeasure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="actions",
        db_index=False,
    )
    directive = models.ForeignKey(
        Directive,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="actions",
        db_index=False,
    )
    origin_decision = models.ForeignKey(
        "committee.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="actions",
        help_text="The committee decision that created the action, if any.",
        db_index=False,
    )
    origin_project = models.ForeignKey(
        "quality.Project",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="actions",
        help_text="The quality project whose review or release gate created the action, if any.",
        db_index=False,
    )
    # Who issued, submitted and verified: shown on the action, never searched.
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    issued_office = models.CharField(max_length=16, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    percent_done = models.PositiveSmallIntegerField(default=0)
    escalation_level = models.PositiveSmallIntegerField(
        default=0, help_text="Raised by chasing: 0 none, 1 unit head, 2 owning office, 3 committee."
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every write; the ETag."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # History is read one action at a time (by id) or by date: its copies of the links need
    # no index, and each history row is written with every change.
    history = HistoricalRecords(no_db_index=UNSEARCHED_IN_HISTORY)

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["unit", "status", "due_on"], name="action_unit_status_due_idx"),
            models.Index(fields=["status", "due_on"], name="action_status_due_idx"),
            models.Index(fields=["assignee", "status"], name="action_assignee_idx"),
            # The list's default order, read by oversight unfiltered: without it the first page
            # sorts every action. It takes the place of the reference's pattern index (below).
            models.Index(fields=["due_on", "id"], name="action_due_idx"),
            # Unfinished work by due date: what chasing walks, batch after batch, and the
            # overdue filter reads (a tenth of the table, not all of it).
            models.Index(
                fields=["due_on", "id"],
                condition=~Q(status__in=["verified", "cancelled"]),
                name="action_open_due_idx",
            ),
            # What waits on an office's verification, oldest submission first, and how many:
            # the CISO's dashboard panel over every unit's submitted security actions.
            models.Index(
                fields=["domain", "submitted_at", "id"],
                include=["submitted_by"],
                condition=Q(status="submitted"),
                name="action_awaiting_idx",
            ),
            *(
                models.Index(
                    fields=[link],
                    condition=Q(**{f"{link}__isnull": False}),
                    name=f"action_{link}_idx",
                )
                for link in SELDOM_SET_LINKS
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["reference"], name="action_reference_unique"),
            models.CheckConstraint(
                condition=Q(percent_done__lte=100), name="action_percent_at_most_100"
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="action_cancelled_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_overdue(self) -> bool:
        finished = self.status in {self.Status.VERIFIED, self.Status.CANCELLED}
        return not finished and self.due_on < timezone.localdate()


class ActionUpdate(models.Model):
    """An append-only line of progress from the owning unit: a note, a percentage, a new status."""

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="updates")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )  # shown, never searched
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    percent_done = models.PositiveSmallIntegerField(null=True, blank=True)
    new_status = models.CharField(max_length=16, choices=Action.Status.choices, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.action.reference} update {self.at:%Y-%m-%d %H:%M}"


class Evidence(models.Model):
    """A file that shows the work was done, stored through Django's storage API."""

    update = models.ForeignKey(ActionUpdate, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to="evidence/%Y/%m/")
    name = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class ActionGroupObjectPermission(GroupObjectPermissionBase):
    """Direct-foreign-key grant on one action to a group (the owning unit's group)."""

    content_object = models.ForeignKey(Action, on_delete=models.CASCADE)
    # Two grants an action, millions of rows: found by the object (its own index) or by the
    # unique (group, permission, object), never by group or permission alone, so those carry
    # no index of their own (guardian's base gives them one each).
    group = models.ForeignKey(Group, on_delete=models.CASCADE, db_index=False)
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, db_index=False)


class ActionUserObjectPermission(UserObjectPermissionBase):
    """Direct-foreign-key grant on one action to one person."""

    content_object = models.ForeignKey(Action, on_delete=models.CASCADE)


class ChaseNotice(models.Model):
    """One chasing stage reached by one action: the unique row that makes each stage happen once,
    however many times (or however concurrently) the chase runs."""

    # Found by (action, stage), which the unique constraint indexes.
    action = models.ForeignKey(
        Action, on_delete=models.PROTECT, related_name="chase_notices", db_index=False
    )
    stage = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "stage"], name="chase_stage_once_per_action")
        ]
        indexes = [
            # The actions chased up to the committee, which its agenda names. An index here,
            # on rows written once, rather than on the action's escalation level: indexing a
            # column the chase updates would make every escalation rewrite the action's indexes.
            models.Index(
                fields=["action"], condition=Q(stage="committee"), name="chase_committee_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action_id} {self.stage}"


class Digest(models.Model):
    """One mail to one person listing everything a chase run has for them (an outbox row: sent
    after commit, claimed by a conditional update so a retry does not send it twice)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["sent_at"], name="digest_unsent_idx"),
            # A person's digest still to be mailed, which each new notification joins.
            models.Index(
                fields=["recipient"],
                condition=Q(sent_at__isnull=True),
                name="digest_unsent_recipient_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Digest for {self.recipient_id} ({'sent' if self.sent_at else 'pending'})"


class Notification(models.Model):
    """An in-app message about an action: the same items the digest mails carry."""

    # A person's inbox is read newest first through the (recipient, created_at, id) index, a
    # digest's items through the digest link's own; the action link is followed, never searched.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    action = models.ForeignKey(
        Action, on_delete=models.PROTECT, related_name="notifications", db_index=False
    )
    stage = models.CharField(max_length=32)
    message = models.CharField(max_length=500)
    digest = models.ForeignKey(
        Digest, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The inbox in its order; nothing searches by read_at, so reading one writes no index.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "action", "stage"], name="notification_once_per_stage"
            )
        ]

    def __str__(self) -> str:
        return self.message
