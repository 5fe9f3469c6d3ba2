"""Concurrency in tests: work released in two threads at once, a run lock held elsewhere."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import connection, connections

from config import sql

T = TypeVar("T")


def at_once(work: Callable[[], T]) -> list[T]:
    """What `work` returned in two threads released together, each on its own connection."""
    results: list[T] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@contextmanager
def held_elsewhere(key: int) -> Iterator[None]:
    """`run_alone(key)` held by another thread, on its own connection, for the block."""
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with sql.run_alone(key) as alone:
                assert alone
                holding.set()
                done.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(30)
        yield
    finally:
        done.set()
        thread.join(30)
