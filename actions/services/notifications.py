"""A person's notifications: marked read by their recipient."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from actions.models import (
    Notification,
)


def mark_notification_read(*, actor: User, notification: Notification) -> Notification:
    """The recipient marks a notification read (idempotent; nobody else may)."""
    if notification.recipient_id != actor.pk:
        raise PermissionDenied(_("Only the recipient may mark a notification read."))
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        notification.refresh_from_db(fields=["read_at"])
    return notification
