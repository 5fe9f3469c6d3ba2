"""Committees, their cadence, meetings, agendas, attendance, decisions and minutes."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

from dateutil.rrule import rrulestr
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from config import dates, text
from config.choices import ChoiceLabels

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
    secretariat_office = models.ForeignKey(
        "accounts.Office",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Whoever holds this office (or acts for it by delegation) is secretariat too.",
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


def compose_title(name: str, local_start: dt.datetime) -> str:
    """A meeting's title as the product composes it: the committee's name and the month, in the
    active language; a long name is cut so that the title still fits its column."""
    month = f" — {date_format(local_start, 'YEAR_MONTH_FORMAT')}"
    room = text.max_length(Meeting, "title") - len(month)
    return text.clip(text.one_line(name), room) + month


def new_ical_uid() -> str:
    return f"{uuid.uuid4()}@rcc"


class Meeting(ChoiceLabels):
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
    rescheduled_from = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Where the meeting first stood, if it was moved.",
    )
    reschedule_reason = models.CharField(max_length=500, blank=True, editable=False)
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

    @property
    def shown_title(self) -> str:
        """The title in the reader's language: one the product composed (the committee's name
        and month, stored in English) is composed again in theirs; one a person typed reads as
        they typed it."""
        local = dates.local(self.rescheduled_from or self.starts_at, self.committee.zone)
        with translation.override("en"):
            composed = compose_title(self.committee.name, local)
        return compose_title(self.committee.name, local) if self.title == composed else self.title

    def has_started(self, now: dt.datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.starts_at


class Attendance(ChoiceLabels):
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


class AgendaItem(ChoiceLabels):
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
        VULNERABILITIES = "vulnerabilities", _("Overdue critical or exploited vulnerabilities")
        UNCLAIMED_ASSETS = "unclaimed_assets", _("Internet-facing assets unclaimed past deadline")
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
    said = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="What an assembled summary says, as data: each reader reads it in their "
        "own language (the summary column keeps it in English).",
    )
    facts_frozen = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="The facts of the item's record as the agenda was published: what the "
        "committee saw, kept beside what is true now.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Written once, at publication, for every item at once: the publish event records it.
    history = HistoricalRecords(no_db_index=UNSEARCHED_LINKS, excluded_fields=["facts_frozen"])

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "source_key"], name="agenda_item_once"),
        ]

    def __str__(self) -> str:
        return self.title


class Decision(ChoiceLabels):
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
        return self.reference


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


class WrittenResolution(ChoiceLabels):
    """An urgent matter the chair puts to the members in writing between meetings: open for
    votes → carried | not carried | lapsed at its deadline; its result is a decision that the
    next meeting's minutes list."""

    class Effect(models.TextChoices):
        # The same values (and words) as a decision's effects: the carried resolution's decision
        # takes its effect from here.
        NONE = "none", _("No further effect")
        RATIFY_SUSPENSION = "ratify_suspension", _("Ratify the suspension")
        OVERTURN_SUSPENSION = "overturn_suspension", _("Overturn the suspension (lifts it)")

    class Status(models.TextChoices):
        OPEN = "open", _("Open for votes")
        CARRIED = "carried", _("Carried")
        NOT_CARRIED = "not_carried", _("Not carried")
        LAPSED = "lapsed", _("Lapsed without quorum")

    reference = models.CharField(max_length=20, unique=True, editable=False)
    committee = models.ForeignKey(
        Committee, on_delete=models.PROTECT, related_name="written_resolutions"
    )
    title = models.CharField(max_length=200)
    text = models.TextField(help_text="The resolution the members are asked to pass, as worded.")
    effect = models.CharField(max_length=24, choices=Effect.choices, default=Effect.NONE)
    suspension = models.ForeignKey(
        "systems.SuspensionOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The suspension awaiting ratification that the resolution ratifies or overturns.",
    )
    deadline = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_office = models.CharField(max_length=16, help_text="The chair's office.")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    decision = models.OneToOneField(
        Decision,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="written_resolution",
        help_text="The decision the result is recorded as, once closed.",
    )
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.PROTECT,
        related_name="written_resolutions",
        help_text="The next meeting, whose minutes record the result.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["status", "deadline"], name="resolution_status_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(effect="none", suspension__isnull=True)
                | (~Q(effect="none") & Q(suspension__isnull=False)),
                name="resolution_effect_names_suspension",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="resolution_closed_iff_not_open",
            ),
            # Two votes at once on the same suspension could settle it both ways.
            models.UniqueConstraint(
                fields=["suspension"],
                condition=Q(status="open"),
                name="resolution_one_open_per_suspension",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class Ballot(models.Model):
    """One voting seat's vote on a written resolution. Seats are frozen when the resolution
    opens (an office's seat is one vote whoever fills it); the vote is cast once, by whoever
    fills the seat then. A declared conflict of interest is an abstention that does not count
    towards the quorum. `notified_at` claims the mail to the seat's person, so it goes once."""

    class Choice(models.TextChoices):
        FOR = "for", _("For")
        AGAINST = "against", _("Against")
        ABSTAIN = "abstain", _("Abstain")

    resolution = models.ForeignKey(
        WrittenResolution, on_delete=models.PROTECT, related_name="ballots"
    )
    seat = models.CharField(max_length=40, help_text="The office's code, or person:<id>.")
    office = models.CharField(max_length=16, blank=True, help_text="The seat's office, if any.")
    is_chair = models.BooleanField(default=False)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who filled the seat when the resolution opened: the one told by mail.",
    )
    choice = models.CharField(
        max_length=8, choices=Choice.choices, blank=True, help_text="Empty until cast."
    )
    conflict_declared = models.BooleanField(default=False)
    conflict_note = models.CharField(max_length=500, blank=True)
    cast_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cast_capacity = models.CharField(
        max_length=16, blank=True, help_text="'holder' or 'acting' for an office, else 'member'."
    )
    cast_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_chair", "seat", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["resolution", "seat"], name="ballot_once_per_seat"),
            models.CheckConstraint(
                condition=Q(cast_at__isnull=True, choice="", cast_by__isnull=True)
                | (Q(cast_at__isnull=False, cast_by__isnull=False) & ~Q(choice="")),
                name="ballot_cast_completely",
            ),
            models.CheckConstraint(
                condition=Q(conflict_declared=False) | Q(choice="abstain"),
                name="ballot_conflict_abstains",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resolution_id} {self.seat}: {self.choice or '-'}"

    @property
    def is_cast(self) -> bool:
        return self.cast_at is not None
