"""One way to declare and walk a lifecycle: a table of acts, each moving records between states."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

Flow = Mapping[str, Mapping[str, str]]


def next_status(current: str, act: str, flow: Flow, noun: str) -> str:
    """Where `act` takes a record in state `current`, or a 400 naming what is allowed from there."""
    if act not in flow:
        raise ValidationError(
            {
                "status": _("Unknown act %(act)s; known: %(known)s.")
                % {"act": repr(act), "known": ", ".join(flow)}
            }
        )
    target = flow[act].get(current)
    if target is None:
        allowed = [name for name, moves in flow.items() if current in moves]
        values = {"act": act, "noun": noun, "current": current, "names": ", ".join(allowed)}
        if allowed:
            message = _(
                "Cannot %(act)s %(noun)s that is %(current)s. From %(current)s you may: %(names)s."
            )
        else:
            message = _(
                "Cannot %(act)s %(noun)s that is %(current)s. "
                "From %(current)s you may: nothing (this is a final state)."
            )
        raise ValidationError({"status": message % values})
    return target
