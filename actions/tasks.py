"""Thin Celery entry points for actions: the hourly chase, and the mail of a submission."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from accounts.models import User
from actions import chasing
from actions.models import Action
from config import mail
from config.text import one_line

# A run holds the chase alone; one hung that long is stopped (its lock goes with it) before
# the next hour's run would find it still under way. The soft limit lets it end cleanly.
CHASE_SOFT_LIMIT, CHASE_LIMIT = 50 * 60, 55 * 60


@shared_task(soft_time_limit=CHASE_SOFT_LIMIT, time_limit=CHASE_LIMIT)
def chase_actions() -> dict[str, object]:
    """Beat, hourly. Each stage reaches each action once: a unique row, not luck."""
    result = chasing.chase_actions()
    return {"stages": dict(result.stages), "digests": result.digests, "skipped": result.skipped}


@shared_task
def notify_submitted(action_id: int) -> int:
    """Mail the office that verifies the action (its holder and anyone acting for it) that the
    unit submitted it; returns how many people it went to."""
    action = Action.objects.select_related("unit", "submitted_by").get(pk=action_id)
    people = chasing.owning_offices([action])[action.pk]
    readers = User.objects.filter(pk__in=people, is_active=True).exclude(email="").order_by("pk")
    context = {
        "action": action,
        "title": one_line(action.title),
        "link": mail.link("actions:action", action.pk),
    }
    sent = 0
    # One mail per language its readers read: each in theirs.
    for language, recipients in mail.by_language(readers.only("email", "language")).items():
        subject, body = mail.compose(
            "actions/mail/submitted.txt",
            context,
            language=language,
            subject=lambda: (
                _("[RCC] %(reference)s submitted for verification by %(unit)s")
                % {"reference": action.reference, "unit": action.unit.code}
            ),
        )
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        sent += len(recipients)
    return sent
