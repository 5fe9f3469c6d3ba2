"""Committees, their cadence, meetings, agendas, attendance, decisions and minutes."""

from __future__ import annotations

import uuid
import zoneinfo

from dateutil.rrule import rrulestr
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

DEFAULT_CADENCE = "FREQ=MONTHLY;BYDAY=2TU;BYHOUR=10;BYMINUTE=0;BYSECOND=0"


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            gettext("%(value)s is not an IANA time zone (e.g. Asia/Tokyo).")
            % {"value": repr(value)}
        ) from exc


def validate_cadence(value: str) -> None:
    """An RFC 5545 RRULE body (without DTSTART), e.g. the default monthly second Tuesday."""
    body = value.removeprefix("RRULE:")
    if "COUNT=" in body.upper() or "DTSTART" in body.upper():
        raise ValidationError(gettext("Give the rule alone, without COUNT or DTSTART."))
    if not any(f"FREQ={freq}" in body.upper() for freq in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")):
        raise ValidationError(
            gettext("A committee meets daily at most: FREQ=DAILY, WEEKLY, MONTHLY or YEARLY.")
        )
    try:
        rrulestr(body)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            gettext("Not an RFC 5545 recurrence rule: %(exc)s") % {"exc": exc}
        ) from exc


class Committee(models.Model):
    """A standing committee: who sits on it, who runs it, when it meets and what makes a quorum."""

    class Quorum(models.TextChoices):
        MAJORITY = "majority", _("A majority of voting members present")
        TWO_THIRDS = "two_thirds", _("Two thirds of voting members present")

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    chair_office = models.ForeignKey(
        "accounts.Office",
        on_delete=models.PROTECT,
        related_name="chaired_committees",
        help_text="Whoever holds this office (or acts for it) chairs the meetings.",
    )
    secretariat = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="secretariat_of",
        help_text="Run the meetings: agenda, attendance, decisions on the chair's behalf, minutes.",
    )
    quorum = models.CharField(max_length=16, choices=Quorum.choices, default=Quorum.MAJORITY)
    quorum_needs_chair = models.BooleanField(
        default=True, help_text="The chair (or the chair's acting delegate) must be present."
    )
    time_zone = models.CharField(
        max_length=64, default="Asia/Tokyo", validators=[validate_time_zone]
    )
    cadence = models.CharField(
        max_length=500,
        default=DEFAULT_CADENCE,
        validators=[validate_cadence],
        help_text="RFC 5545 RRULE, read in the committee's time zone (default: monthly, second "
        "Tuesday, 10:00).",
    )
    cadence_start = models.DateField(
        default=timezone.localdate,
        help_text="The day the cadence counts from: which fortnight or quarter a rule with an "
        "INTERVAL means (its DTSTART, in the committee's zone).",
    )
    duration_minutes = models.PositiveSmallIntegerField(default=120)
    agenda_lead_days = models.PositiveSmallIntegerField(
        default=5, help_text="The agenda is published this many days before each meeting."
    )
    location = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[secretariat])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class CommitteeMember(models.Model):
    """A seat on the committee, held by an office (resolved to its holder at each meeting) or by
    a named person."""

    class Kind(models.TextChoices):
        VOTING = "voting", _("Voting member")
        OBSERVER = "observer", _("Observer")

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="members")
    office = models.ForeignKey(
        "accounts.Office", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.VOTING)
    history = HistoricalRecords()

    class Meta:
        ordering = ["committee", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(office__isnull=True, person__isnull=False)
                | Q(office__isnull=False, person__isnull=True),
                name="committee_member_office_or_person",
            ),
            models.UniqueConstraint(
                fields=["committee", "office"],
                condition=Q(office__isnull=False),
                name="committee_office_seat_once",
            ),
            models.UniqueConstraint(
                fields=["committee", "person"],
                condition=Q(person__isnull=False),
                name="committee_person_seat_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office or self.person} ({self.kind})"


class CadenceException(models.Model):
    """One occurrence of the cadence skipped, or moved to another time."""

    class Kind(models.TextChoices):
        SKIP = "skip", _("Skip this meeting")
        MOVE = "move", _("Move this meeting")

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="exceptions")
    occurrence_date = models.DateField(help_text="The cadence's date, in the committee's zone.")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    moved_to = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["occurrence_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "occurrence_date"], name="cadence_exception_once_per_date"
            ),
            models.CheckConstraint(
                condition=Q(kind="skip", moved_to__isnull=True)
                | Q(kind="move", moved_to__isnull=False),
                name="cadence_move_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.committee}: {self.kind} {self.occurrence_date}"


def new_ical_uid() -> str:
    return f"{uuid.uuid4()}@rcc"


class Meeting(models.Model):
    """One sitting of a committee: scheduled → agenda published → held → minutes approved,
    or cancelled."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHED = "published", _("Agenda published")
        HELD = "held", _("Held")
        APPROVED = "approved", _("Minutes approved")
        CANCELLED = "cancelled", _("Cancelled")

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    cadence_date = models.DateField(
        null=True,
        blank=True,
        help_text="The cadence occurrence this meeting realises (empty for an extraordinary one).",
    )
    location = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    ical_uid = models.CharField(max_length=100, unique=True, default=new_ical_uid, editable=False)
    sequence = models.PositiveIntegerField(
        default=0, editable=False, help_text="iCalendar SEQUENCE: bumped by every change sent."
    )
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Frozen when the agenda is published.",
    )
    chair_capacity = models.CharField(max_length=16, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    held_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["status", "starts_at"], name="meeting_status_start_idx")]
        constraints = [
            # What makes scheduling idempotent: a second run, or a second beat, creates nothing.
            models.UniqueConstraint(
                fields=["committee", "starts_at"], name="meeting_once_per_start"
            ),
            models.UniqueConstraint(
                fields=["committee", "cadence_date"],
                condition=Q(cadence_date__isnull=False),
                name="meeting_once_per_occurrence",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_locked(self) -> bool:
        """Approved minutes lock the meeting's record: corrections are new, linked records."""
        return self.status == self.Status.APPROVED


class Attendance(models.Model):
    """A person expected at a meeting, frozen when the agenda is published, and whether they came."""

    class Kind(models.TextChoices):
        VOTING = "voting", _("Voting member")
        OBSERVER = "observer", _("Observer")

    class Status(models.TextChoices):
        EXPECTED = "expected", _("Expected")
        PRESENT = "present", _("Present")
        ABSENT = "absent", _("Absent")
        REPRESENTED = "represented", _("Represented by a delegate")

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="attendance")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    office = models.CharField(max_length=16, blank=True, help_text="The seat's office, if any.")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.VOTING)
    is_chair = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.EXPECTED)
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_after_publication = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_chair", "kind", "office", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="attendance_once"),
            models.CheckConstraint(
                condition=Q(status="represented", delegate__isnull=False)
                | (~Q(status="represented") & Q(delegate__isnull=True)),
                name="attendance_delegate_iff_represented",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} at {self.meeting_id}: {self.status}"


UNSEARCHED_LINKS = [
    "meeting", "unit", "incident", "risk", "action", "suspension", "directive", "project",
    "added_by", "removed_by",
]  # fmt: skip


class AgendaItem(models.Model):
    """One item on a meeting's agenda: computed from the data (an incident, a risk, an escalated
    action, a suspension awaiting ratification, a directive, a decided action still open) or added
    by the secretariat."""

    class Kind(models.TextChoices):
        INCIDENT = "incident", _("Incident reported since the last meeting")
        RISK = "risk", _("Risk above appetite")
        ESCALATED_ACTION = "escalated_action", _("Action escalated to the committee")
        SUSPENSION = "suspension", _("Suspension awaiting ratification")
        DIRECTIVE = "directive", _("Directive issued since the last meeting")
        CARRIED_ACTION = "carried_action", _("Decided action still open")
        QUALITY_FLAG = "quality_flag", _("Project flagged by quality control")
        OTHER = "other", _("Other business")

    # Every read of items is one meeting's, which the unique (meeting, source_key) index serves;
    # the links below are never searched from the other side (related_name "+"), so they carry
    # no index of their own: an agenda of thousands of items is written in one statement, and
    # each index would be one more write a row.
    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, related_name="items", db_index=False
    )
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source_key = models.CharField(
        max_length=64, help_text="What the item is about (kind:id); unique per meeting."
    )
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    unit = models.ForeignKey(
        "accounts.BusinessUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="The unit the item concerns; a unit sees only its own items.",
    )
    incident = models.ForeignKey(
        "cases.Incident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    risk = models.ForeignKey(
        "cases.Risk",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    action = models.ForeignKey(
        "actions.Action",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    suspension = models.ForeignKey(
        "systems.SuspensionOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    directive = models.ForeignKey(
        "actions.Directive",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    project = models.ForeignKey(
        "quality.Project",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="The quality project a flag brought to the agenda.",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="Empty when assembled from the data.",
    )
    added_after_publication = models.BooleanField(default=False)
    removed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Taken off the agenda; kept so assembly does not re-add it.",
    )
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    discussed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(no_db_index=UNSEARCHED_LINKS)  # read by item (id) and date

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "source_key"], name="agenda_item_once"),
        ]

    def __str__(self) -> str:
        return self.title


class Decision(models.Model):
    """What the committee decided on an agenda item; approved minutes lock it, and a correction is
    a new decision that points at the one it corrects."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        DEFERRED = "deferred", _("Deferred")
        NOTED = "noted", _("Noted")

    class Effect(models.TextChoices):
        NONE = "none", _("No further effect")
        CREATE_ACTIONS = "create_actions", _("Create actions")
        RATIFY_SUSPENSION = "ratify_suspension", _("Ratify the suspension")
        OVERTURN_SUSPENSION = "overturn_suspension", _("Overturn the suspension (lifts it)")
        ACCEPT_RISK = "accept_risk", _("Accept the risk above appetite")

    reference = models.CharField(max_length=20, unique=True, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    item = models.ForeignKey(
        AgendaItem, on_delete=models.PROTECT, related_name="decisions", null=True, blank=True
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    effect = models.CharField(max_length=24, choices=Effect.choices, default=Effect.NONE)
    text = models.TextField(help_text="The resolution as the committee worded it.")
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Whose decision it is: the meeting's chair.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_capacity = models.CharField(
        max_length=16, help_text="'chair', or 'secretariat' recording on the chair's behalf."
    )
    recorded_at = models.DateTimeField()
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=Q(item__isnull=False), name="one_decision_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.outcome}"


class Minutes(models.Model):
    """The record of a meeting: drafted by the secretariat, approved (and so locked) by the chair."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")

    meeting = models.OneToOneField(Meeting, on_delete=models.PROTECT, related_name="minutes")
    body = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1, editable=False)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_office = models.CharField(max_length=16, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "minutes"

    def __str__(self) -> str:
        return f"Minutes of {self.meeting}"


class MinutesCorrection(models.Model):
    """A correction to approved minutes: a new record linked to them, never an edit."""

    minutes = models.ForeignKey(Minutes, on_delete=models.PROTECT, related_name="corrections")
    text = models.TextField()
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    made_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["made_at", "pk"]

    def __str__(self) -> str:
        return f"Correction to {self.minutes}"


class MeetingNotice(models.Model):
    """One invitation (or cancellation) to one person at one SEQUENCE of a meeting: the outbox row
    that makes each mail go once, claimed by a conditional update when it is sent."""

    class Method(models.TextChoices):
        REQUEST = "REQUEST", _("Invitation")
        CANCEL = "CANCEL", _("Cancellation")

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="notices")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sequence = models.PositiveIntegerField()
    method = models.CharField(max_length=8, choices=Method.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "recipient", "sequence"], name="meeting_notice_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.meeting_id} to {self.recipient_id} (seq {self.sequence})"


class CalendarFeed(models.Model):
    """A person's calendar subscription: the token in its URL is the only credential, so only
    its hash is stored, and revoking it ends the feed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user} ({'revoked' if self.revoked_at else 'active'})"
