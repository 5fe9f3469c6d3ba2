"""An agenda item's facts: read from its record as plain values, frozen with the agenda when it
is published, and shown in the reader's language with "now" beside whatever has changed since."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from django.db.models import Model
from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from actions.models import Action, Directive
from cases.models import Incident, Risk
from committee.headings import is_units_escalated, is_units_vulnerabilities
from committee.models import AgendaItem
from config.choices import _labels
from quality.models import Project
from systems.models import SuspensionOrder, System

CLOSED_ACTIONS = {Action.Status.VERIFIED, Action.Status.CANCELLED}
ESCALATION = {
    0: gettext_lazy("Not escalated"),
    1: gettext_lazy("Unit head"),
    2: gettext_lazy("Owning office"),
    3: gettext_lazy("Committee"),
}


class Fact(NamedTuple):
    """One line: its label, its value as the committee saw it, and its value now when that
    differs (None when unchanged, or when the agenda is not frozen yet)."""

    label: str
    value: str
    now: str | None = None


def _choice(model: type[Model], field: str) -> Callable[[Any], str]:
    def label(value: Any) -> str:
        return _labels(model._meta.get_field(field), get_language()).get(value, str(value))

    return label


@functools.cache
def _label(key: str, language: str | None) -> str:
    """A fact's label in `language` (the active one), translated once."""
    return str(SHOWN[key][0])


def _day(value: Any) -> str:
    if not value:
        return "—"
    return formats.date_format(dt.date.fromisoformat(str(value)[:10]), "SHORT_DATE_FORMAT")


def _score(value: Any) -> str:
    score, level = value
    return _("%(score)s (%(level)s)") % {
        "score": score,
        "level": _choice(Risk, "inherent_level")(level),
    }


def _text(value: Any) -> str:
    return str(value) if value not in (None, "") else "—"


# key -> (label, how its stored value reads). Labels and choice names are looked up when shown,
# so a frozen agenda reads in whatever language its reader uses.
SHOWN: dict[str, tuple[Promise, Callable[[Any], str]]] = {
    "severity": (gettext_lazy("Severity"), _choice(Incident, "severity")),
    "incident_status": (gettext_lazy("Status"), _choice(Incident, "status")),
    "reported": (gettext_lazy("Reported"), _day),
    "personal_data_involved": (gettext_lazy("Personal data"), lambda v: _("Involved")),
    "inherent": (gettext_lazy("Inherent score"), _score),
    "residual": (gettext_lazy("Residual score"), _score),
    "treatment": (gettext_lazy("Treatment"), _choice(Risk, "treatment")),
    "risk_status": (gettext_lazy("Status"), _choice(Risk, "status")),
    "due": (gettext_lazy("Due"), _day),
    "action_status": (gettext_lazy("Status"), _choice(Action, "status")),
    "escalation": (gettext_lazy("Escalation"), lambda v: str(ESCALATION.get(v, v))),
    "done": (gettext_lazy("Done"), lambda v: f"{formats.localize(v)}%"),
    "unit": (gettext_lazy("Unit"), _text),
    "system": (gettext_lazy("System"), _text),
    "system_status": (gettext_lazy("System status"), _choice(System, "status")),
    "order": (gettext_lazy("Order"), _choice(SuspensionOrder, "status")),
    "ordered_by": (gettext_lazy("Ordered by"), _text),
    "ordered_on": (gettext_lazy("Ordered on"), _day),
    "phase": (gettext_lazy("Phase"), _choice(Project, "phase")),
    "rating": (gettext_lazy("Rating"), _choice(Project, "rag")),
    "personal_data_handled": (
        gettext_lazy("Personal data"),
        lambda v: _("Handled") if v else _("None"),
    ),
    "deadline": (gettext_lazy("Deadline"), _day),
    "directive_status": (gettext_lazy("Status"), _choice(Directive, "status")),
    "domain": (gettext_lazy("Domain"), _choice(Directive, "domain")),
    "issued_by": (gettext_lazy("Issued by"), _text),
}


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def values_of(item: AgendaItem) -> dict[str, Any]:
    """The key fields of the record an item is about, as JSON values (all loaded with the
    agenda: no query). The order is the order they are shown in."""
    values: dict[str, Any] = {}
    if (incident := item.incident) is not None:
        values |= {
            "severity": incident.severity,
            "incident_status": incident.status,
            "reported": _iso(incident.reported_at),
        }
        if incident.personal_data_involved:
            values["personal_data_involved"] = True
    if (risk := item.risk) is not None:
        values |= {
            "inherent": [risk.inherent_score, risk.inherent_level],
            "residual": [risk.residual_score, risk.residual_level],
            "treatment": risk.treatment,
            "risk_status": risk.status,
        }
    if (action := item.action) is not None:
        values |= {
            "due": _iso(action.due_on),
            "action_status": action.status,
            "escalation": action.escalation_level,
            "done": action.percent_done,
        }
    if is_units_escalated(item) or is_units_vulnerabilities(item):
        assert item.unit is not None
        values["unit"] = f"{item.unit.code} — {item.unit.name}"
    if (order := item.suspension) is not None:
        system = order.system
        values |= {
            "system": f"{system.code} — {system.name}",
            "system_status": system.status,
            "order": order.status,
            "ordered_by": order.issued_office,
            "ordered_on": _iso(order.issued_at),
        }
    if (project := item.project) is not None:
        values |= {
            "phase": project.phase,
            "rating": project.rag,
            "personal_data_handled": project.handles_personal_data,
        }
    if (directive := item.directive) is not None:
        values |= {
            "deadline": _iso(directive.deadline),
            "directive_status": directive.status,
            "domain": directive.domain,
            "issued_by": directive.issued_office,
        }
    return values


def is_overdue(values: dict[str, Any], today: dt.date) -> bool:
    """An open action past its due date, by the values given (frozen or current)."""
    due = values.get("due")
    return (
        bool(due)
        and dt.date.fromisoformat(str(due)) < today
        and values.get("action_status") not in CLOSED_ACTIONS
    )


def shown(frozen: dict[str, Any] | None, current: dict[str, Any]) -> list[Fact]:
    """The lines to show: the frozen values, each with its value now beside it where that
    differs; before publication (nothing frozen), the values as they are now."""
    if frozen is None:
        return list(_render(current.items()))
    facts = []
    for key, value in frozen.items():
        if key not in SHOWN:
            continue
        read = SHOWN[key][1]
        now = read(current[key]) if key in current and current[key] != value else None
        facts.append(Fact(_label(key, get_language()), read(value), now))
    return facts


def _render(values: Iterable[tuple[str, Any]]) -> Iterable[Fact]:
    language = get_language()
    for key, value in values:
        if key in SHOWN:
            yield Fact(_label(key, language), SHOWN[key][1](value))
