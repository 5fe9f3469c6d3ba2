"""Thin Celery entry points for actions: the hourly chase."""

from __future__ import annotations

from celery import shared_task

from actions import chasing


@shared_task
def chase_actions() -> dict[str, object]:
    """Beat, hourly. Each stage reaches each action once: a unique row, not luck."""
    result = chasing.chase_actions()
    return {"stages": dict(result.stages), "digests": result.digests}
