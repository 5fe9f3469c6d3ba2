"""Concurrency in tests: work released in two threads at once, a run lock held elsewhere."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

from django.db import connection, connections

from config import sql

T = TypeVar("T")


def at_once(work: Callable[[], T], *, threads: int = 2, timeout: float = 120) -> list[T]:
    """What `work` returned in `threads` threads released together, each on its own connection;
    the first error any of them met is raised here, after all have ended."""
    results: list[T] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as exc:  # raised in the test's thread below
            errors.append(exc)
        finally:
            connection.close()

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
    return results


@contextmanager
def held_by_another(hold: Callable[[], AbstractContextManager[object]]) -> Iterator[None]:
    """What `hold()` opens (a lock, a transaction holding a row) kept open by another thread, on
    its own connection, for the block."""
    holding, done = threading.Event(), threading.Event()

    def keep() -> None:
        try:
            with hold():
                holding.set()
                done.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=keep)
    thread.start()
    try:
        assert holding.wait(30)
        yield
    finally:
        done.set()
        thread.join(30)


def held_elsewhere(key: int) -> AbstractContextManager[None]:
    """`run_alone(key)` held by another thread, on its own connection, for the block."""

    @contextmanager
    def alone() -> Iterator[None]:
        with sql.run_alone(key) as got:
            assert got
            yield

    return held_by_another(alone)
