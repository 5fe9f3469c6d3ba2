"""One way to ask before an act that cannot be undone: a page that says what will happen, and
the same post sent again with `confirm=yes` to do it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRMED = "yes"


def confirmed(request: HttpRequest) -> bool:
    """The post is the answer to the confirmation page, not the first press of the button."""
    return request.POST.get("confirm") == CONFIRMED


@dataclass(frozen=True)
class Confirmation:
    """What the person is about to do, in their language: a title, one sentence, the
    consequences line by line, and where the button posts (with the fields it carries)."""

    title: str
    message: str
    action: str
    button: str
    back: str
    consequences: Sequence[str] = ()
    fields: Sequence[tuple[str, str]] = field(default_factory=tuple)
    tone: str = "primary"


def ask(request: HttpRequest, confirmation: Confirmation) -> HttpResponse:
    return render(request, "confirm.html", {"confirm": confirmation})
