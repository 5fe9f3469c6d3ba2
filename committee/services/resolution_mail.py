"""The mail that tells each seat of a written resolution that a vote waits for it, sent once."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.translation import gettext as _

from committee.models import Ballot, WrittenResolution
from committee.services.resolutions import seat_label
from config import dates, mail
from config.text import one_line

log = logging.getLogger(__name__)
OPEN = WrittenResolution.Status.OPEN


def send_notices(resolution_id: int) -> int:
    """Mail each seat's person, once, that a vote waits for them. Each ballot is claimed by a
    conditional update before its mail goes, so a retried or redelivered task never sends one
    twice; a mail that fails is released for the hourly sweep."""
    resolution = WrittenResolution.objects.select_related("committee", "proposed_by").get(
        pk=resolution_id
    )
    if resolution.status != OPEN:
        return 0  # decided already: nothing waits for anyone
    pending = list(resolution.ballots.filter(notified_at__isnull=True).select_related("person"))
    sent = 0
    for ballot in pending:
        claimed = Ballot.objects.filter(pk=ballot.pk, notified_at__isnull=True).update(
            notified_at=timezone.now()
        )
        if not claimed or not ballot.person.email:
            continue
        try:
            _mail_ballot(resolution, ballot)
        except Exception:
            Ballot.objects.filter(pk=ballot.pk).update(notified_at=None)
            log.exception("Could not mail ballot %s of resolution %s", ballot.pk, resolution.pk)
            continue
        sent += 1
    return sent


def _mail_ballot(resolution: WrittenResolution, ballot: Ballot) -> None:
    """In the person's own language, with the full address of the resolution's page."""
    person = ballot.person
    zone = resolution.committee.zone
    deadline = dates.local(resolution.deadline, zone)
    when = f"{deadline:%Y-%m-%d %H:%M} ({zone.key})"
    title = one_line(resolution.title)
    subject, body = mail.compose(
        "committee/mail/resolution.txt",
        {
            "resolution": resolution,
            "seat": seat_label(ballot),
            "recipient": person,
            "title": title,
            "deadline": when,
            "link": mail.link("committee:resolution", resolution.pk),
        },
        language=mail.language_of(person),
        subject=lambda: (
            _("[RCC] Your vote is requested by %(deadline)s: %(reference)s %(title)s")
            % {"deadline": when, "reference": resolution.reference, "title": title}
        ),
    )
    EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[person.email]
    ).send()


def pending_notice_resolutions(*, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> list[int]:
    """Open resolutions with ballots still unmailed a while after opening (a mail server that
    was down, a lost task): the hourly sweep sends them."""
    cutoff = timezone.now() - older_than
    return list(
        Ballot.objects.filter(
            notified_at__isnull=True,
            resolution__status=OPEN,
            resolution__opened_at__lt=cutoff,
        )
        .order_by()  # the ballots' own order would make each row distinct
        .values_list("resolution_id", flat=True)
        .distinct()
    )
