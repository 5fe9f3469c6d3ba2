"""An agenda item's heading in the reader's language, for the pages, the pack and the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from committee.models import AgendaItem
from committee.sayings import say_escalated, say_flag, say_unclaimed, say_vulnerabilities


def is_units_escalated(item: AgendaItem) -> bool:
    """A unit's actions escalated to the committee, taken together (one item a unit)."""
    return (
        item.kind == AgendaItem.Kind.ESCALATED_ACTION
        and item.action_id is None
        and item.unit_id is not None
    )


def is_units_vulnerabilities(item: AgendaItem) -> bool:
    """A unit's overdue critical and exploited vulnerabilities, taken together."""
    return item.kind == AgendaItem.Kind.VULNERABILITIES and item.unit_id is not None


def _said(item: AgendaItem, say: Callable[[dict[str, Any]], str]) -> str:
    """In the reader's language from what the item keeps as data; an item assembled before it
    kept any reads as it was stored."""
    return say(item.said) if item.said else item.summary


def _of_units(item: AgendaItem) -> tuple[str, str] | None:
    """The items that take many records together and keep what they say as data."""
    if is_units_escalated(item):
        assert item.unit is not None
        heading = _("%(unit)s: actions escalated to the committee") % {
            "unit": f"{item.unit.code} {item.unit.name}"
        }
        return heading, _said(item, say_escalated)  # counts and references
    if is_units_vulnerabilities(item):
        assert item.unit is not None
        heading = _("%(unit)s: overdue critical and exploited vulnerabilities") % {
            "unit": f"{item.unit.code} {item.unit.name}"
        }
        return heading, _said(item, say_vulnerabilities)  # counts and systems
    if item.kind == AgendaItem.Kind.UNCLAIMED_ASSETS:
        heading = _("Internet-facing assets unclaimed past the CISO's deadline")
        return heading, _said(item, say_unclaimed)  # how many, which addresses
    return None


def heading_of(item: AgendaItem) -> tuple[str, str]:
    """The item's heading and summary in the reader's language. Assembled items are stored with
    English text (for the mail and the API); the pages say the same from the linked record, and
    the facts carry the rest. The secretariat's own items read as they typed them."""
    if item.suspension is not None:
        system = item.suspension.system
        heading = _("Ratify the suspension of %(code)s (%(name)s)") % {
            "code": system.code,
            "name": system.name,
        }
        return heading, item.suspension.reason
    said = _of_units(item)
    if said is not None:
        return said
    if item.project is not None:
        heading = _("%(project)s: flagged by quality control") % {
            "project": f"{item.project.reference} {item.project.name}"
        }
        return heading, _said(item, say_flag)  # what was red or falling
    record = item.incident or item.risk or item.action or item.directive
    if record is not None:
        return f"{record.reference} {record.title}", ""
    return item.title, item.summary
