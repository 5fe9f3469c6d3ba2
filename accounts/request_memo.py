"""Answers a page asks for many times (permissions, the risk matrix in force) remembered for the
length of one reading request, never longer."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse

T = TypeVar("T")

# None outside a request: tasks, commands and services called from tests always ask afresh.
_answers: ContextVar[dict[Hashable, Any] | None] = ContextVar("rcc_request_memo", default=None)

# Only requests that change nothing remember: a write (a delegation, a role) may change the
# answers it would then read back in the same request.
READING = frozenset({"GET", "HEAD", "OPTIONS"})


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    """The answer for `key` given earlier in this request, else `compute()`'s (kept for the rest
    of the request when there is one)."""
    answers = _answers.get()
    if answers is None:
        return compute()
    if key not in answers:
        answers[key] = compute()
    found: T = answers[key]  # what compute() returned for this key
    return found


def remembering() -> bool:
    """Is a reading request under way (so answers are remembered)?"""
    return _answers.get() is not None


class RequestMemoMiddleware:
    """A page or list asks the same permission questions many times (the layout, each panel,
    each selector): within one reading request each is answered once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in READING:
            return self.get_response(request)
        token = _answers.set({})
        try:
            return self.get_response(request)
        finally:
            _answers.reset(token)
