"""P5, assembling the next meeting's agenda from the whole data set: constant queries, < 200 ms."""

from __future__ import annotations

import statistics
import time

from django.db import transaction

from bench.harness import Result, count_queries, ms
from committee.models import AgendaItem, Meeting
from committee.services.agenda import assemble_agenda


class _RolledBack(Exception):
    pass


def run(runs: int) -> list[Result]:
    meeting = Meeting.objects.filter(status=Meeting.Status.SCHEDULED).order_by("starts_at").first()
    assert meeting is not None, "the generated data has a scheduled meeting"
    added: dict[str, int] = {}

    def assemble() -> None:
        try:
            with transaction.atomic():
                added["items"] = assemble_agenda(actor=None, meeting=meeting)
                raise _RolledBack
        except _RolledBack:
            pass

    assemble()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        assemble()
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    queries, _statements = count_queries(assemble)
    assert not AgendaItem.objects.filter(meeting=meeting).exists()
    return [
        Result(
            "P5",
            "assemble the next meeting's agenda from the whole data set",
            ms(median),
            "-",
            None,
            "< 200 ms, constant queries",
            median < 0.2,
            [f"{queries} queries", f"{added['items']} items", "each run rolled back"],
        )
    ]
