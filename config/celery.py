"""The Celery app shared by workers and beat: Django-aware tasks, late acks, bounded retries."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# DjangoTask gives every task delay_on_commit()/apply_async_on_commit(), so a task queued
# inside a service leaves only after the transaction that made its data commits.
app = Celery("rcc", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
