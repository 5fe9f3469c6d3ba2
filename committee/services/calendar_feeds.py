"""Calendar subscriptions: a secret URL per person, revocable at any time."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit import services as audit
from committee.models import CalendarFeed


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_calendar_feed(*, actor: User) -> tuple[CalendarFeed, str]:
    """A new feed and its token, shown once: only the hash is kept."""
    if not actor.is_authenticated:
        raise PermissionDenied(_("Sign in to subscribe to your meetings."))
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user=actor, token_hash=token_hash(token))
    audit.record(actor=actor, verb="calendar_feed.created", target=feed)
    return feed, token


@transaction.atomic
def revoke_calendar_feed(*, actor: User, feed: CalendarFeed) -> CalendarFeed:
    if feed.user_id != actor.pk and not actor.is_superuser:
        raise PermissionDenied(_("Only its owner (or an administrator) revokes a calendar feed."))
    feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        audit.record(actor=actor, verb="calendar_feed.revoked", target=feed)
    return feed


def open_calendar_feed(token: str) -> CalendarFeed | None:
    """The live feed a token opens (None if unknown or revoked), its last use noted."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is not None:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed
