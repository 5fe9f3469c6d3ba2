"""The Celery app shared by workers and beat: Django-aware tasks, late acks, bounded retries."""

from __future__ import annotations

import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db.utils import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class Task(DjangoTask):
    """Every task of the product. DjangoTask gives delay_on_commit()/apply_async_on_commit();
    a task that meets the database away (a restart, a failover) runs again with a growing
    delay instead of failing, so a daily run is not lost to a minute's outage."""

    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = 2
    retry_backoff_max = 300
    retry_jitter = False  # 2, 4, 8 ... 256 s: eight tries over some eight minutes
    max_retries = 8


app = Celery("rcc", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
