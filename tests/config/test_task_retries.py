"""A task that meets the database away runs again later instead of failing for good."""

from __future__ import annotations

from celery import shared_task
from django.db.utils import OperationalError

from config.celery import Task

calls: list[int] = []


@shared_task(name="tests.config.flaky_database")
def flaky_database(fail_times: int) -> str:
    calls.append(1)
    if len(calls) <= fail_times:
        raise OperationalError("connection to server failed: the database system is starting up")
    return "ran"


def test_every_task_of_the_product_retries_a_database_outage():
    from actions.tasks import chase_actions
    from committee.tasks import schedule_meetings
    from outbox.tasks import relay_outbox

    for task in (chase_actions, schedule_meetings, relay_outbox, flaky_database):
        assert isinstance(task, Task), task.name


def test_the_outage_is_retried_until_the_database_answers():
    calls.clear()
    result = flaky_database.apply(args=(3,))  # eagerly: the retries run at once
    assert result.get() == "ran"
    assert len(calls) == 4  # three refusals, then the run that worked


def test_an_outage_that_outlasts_the_retries_fails_the_task():
    calls.clear()
    result = flaky_database.apply(args=(100,))
    assert result.state == "FAILURE"
    assert len(calls) == Task.max_retries + 1
