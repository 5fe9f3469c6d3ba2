"""One way to declare and walk a lifecycle: a table of acts, each moving records between states."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError

Flow = Mapping[str, Mapping[str, str]]


def next_status(current: str, act: str, flow: Flow, noun: str) -> str:
    """Where `act` takes a record in state `current`, or a 400 naming what is allowed from there."""
    if act not in flow:
        raise ValidationError({"status": f"Unknown act {act!r}; known: {', '.join(flow)}."})
    target = flow[act].get(current)
    if target is None:
        allowed = [name for name, moves in flow.items() if current in moves]
        names = ", ".join(allowed) or "nothing (this is a final state)"
        raise ValidationError(
            {"status": f"Cannot {act} {noun} that is {current}. From {current} you may: {names}."}
        )
    return target
