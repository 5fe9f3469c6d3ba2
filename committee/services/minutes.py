"""Minutes: the secretariat drafts, the chair approves, and approval locks the meeting."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit import services as audit
from committee import policy
from committee.models import Meeting, Minutes, MinutesCorrection
from committee.services.meetings import IN_SESSION, MEETING_FLOW, locked, refuse_if_locked
from config.errors import Conflict, PreconditionFailed, PreconditionRequired
from config.lifecycle import next_status


def etag(minutes: Minutes) -> str:
    return f'"m{minutes.pk}-v{minutes.version}"'


@transaction.atomic
def draft_minutes(
    *, actor: User, meeting: Meeting, body: str, expected_version: str | None = None
) -> Minutes:
    """Write (or rewrite) the draft. A rewrite must name the version it read (If-Match)."""
    meeting = locked(meeting)
    if not policy.can_run_meeting(actor, meeting):
        raise PermissionDenied(
            _("Only the committee's secretariat or its chair drafts the minutes.")
        )
    refuse_if_locked(meeting)
    if meeting.status not in IN_SESSION:
        raise ValidationError({"status": _("Minutes are drafted once the agenda is published.")})
    minutes = Minutes.objects.select_for_update().filter(meeting=meeting).first()
    if minutes is None:
        minutes = Minutes.objects.create(meeting=meeting, body=body, drafted_by=actor)
        audit.record(actor=actor, verb="minutes.drafted", target=meeting)
        return minutes
    # Under the row lock: two first drafts at once cannot both pass as "the first".
    if expected_version is None:
        raise PreconditionRequired(_("The minutes exist already: send the version you read."))
    if expected_version != etag(minutes):
        raise PreconditionFailed(_("The minutes changed since you read them; reload and retry."))
    minutes.body = body
    minutes.drafted_by = actor
    minutes.version += 1
    minutes.save(update_fields=["body", "drafted_by", "version", "updated_at"])
    audit.record(
        actor=actor, verb="minutes.revised", target=meeting, details={"version": minutes.version}
    )
    return minutes


@transaction.atomic
def approve_minutes(
    *, actor: User, meeting: Meeting, expected_version: str | None = None
) -> Minutes:
    """The chair approves; the minutes and every decision of the meeting are locked from now.
    With `expected_version`, only the text the chair read is approved."""
    meeting = locked(meeting)
    if not policy.can_approve_minutes(actor, meeting):
        raise PermissionDenied(
            _("Only the chair (or the chair's acting delegate) approves minutes.")
        )
    refuse_if_locked(meeting)
    minutes = Minutes.objects.select_for_update().filter(meeting=meeting).first()
    if minutes is None or not minutes.body.strip():
        raise ValidationError({"minutes": _("There are no minutes to approve yet.")})
    if expected_version is not None and expected_version != etag(minutes):
        raise PreconditionFailed(_("The minutes changed since you read them; reload them first."))
    meeting.status = next_status(meeting.status, "approve", MEETING_FLOW, "a meeting")
    meeting.save(update_fields=["status", "updated_at"])
    office = policy.chair_capacity(actor, meeting.committee) and meeting.committee.chair_office.code
    minutes.status = Minutes.Status.APPROVED
    minutes.approved_by = actor
    minutes.approved_office = office or ""
    minutes.approved_at = timezone.now()
    minutes.save(update_fields=["status", "approved_by", "approved_office", "approved_at"])
    audit.record(
        actor=actor,
        office=minutes.approved_office,
        verb="minutes.approved",
        target=meeting,
        details={
            "version": minutes.version,
            "decisions": list(meeting.decisions.values_list("reference", flat=True)),
        },
    )
    return minutes


@transaction.atomic
def correct_minutes(*, actor: User, meeting: Meeting, text: str) -> MinutesCorrection:
    """Approved minutes are never edited; a correction is a new record linked to them."""
    meeting = locked(meeting)
    if not policy.can_run_meeting(actor, meeting):
        raise PermissionDenied(
            _("Only the committee's secretariat or its chair records corrections.")
        )
    minutes = Minutes.objects.filter(meeting=meeting).first()
    if minutes is None or minutes.status != Minutes.Status.APPROVED:
        raise Conflict(_("Draft minutes are edited, not corrected."), code="not_approved")
    if not text.strip():
        raise ValidationError({"text": _("Say what is corrected.")})
    correction = MinutesCorrection.objects.create(minutes=minutes, text=text.strip(), made_by=actor)
    audit.record(
        actor=actor,
        verb="minutes.corrected",
        target=meeting,
        details={"correction": correction.pk, "text": correction.text},
    )
    return correction
