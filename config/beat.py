"""Beat's database scheduler, kept running through a database outage instead of exiting."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import DatabaseError, InterfaceError
from django_celery_beat import schedulers

logger = logging.getLogger(__name__)


class ResilientDatabaseScheduler(schedulers.DatabaseScheduler):
    """django-celery-beat's scheduler, minus one way to die.

    Upstream already rides out a database error while checking for changes (schedule_changed)
    and while saving run times (sync), but not while re-reading the whole schedule, which it
    does after a change and every SCHEDULE_SYNC_MAX_INTERVAL (five minutes) regardless: if the
    database is down at that moment the error leaves tick() and beat exits ("beat raised
    exception OperationalError"), so any outage longer than five minutes, and a fraction of the
    shorter ones, stopped every periodic task until someone restarted beat. Here beat keeps
    the schedule it has (it needs no database to send), and tries the re-read again each tick
    until the database answers."""

    @property
    def schedule(self) -> dict[str, Any]:
        try:
            schedule: dict[str, Any] = super().schedule
        except (DatabaseError, InterfaceError) as exc:
            if self._schedule is None:
                raise  # the first read, at start-up: nothing to fall back on
            logger.warning(
                "beat: cannot re-read the schedule from the database (%s: %s); "
                "sending on the one it has and trying again next tick",
                type(exc).__name__,
                exc,
            )
            # Make the re-read due again, so a change made meanwhile is not missed for 5 minutes.
            self._last_full_sync = dt.datetime.now() - dt.timedelta(
                seconds=schedulers.SCHEDULE_SYNC_MAX_INTERVAL
            )
            schedule = self._schedule
        return schedule
