"""An agenda item's facts and the link to its record, written here rather than by an include: a
long agenda drew that include once an item, and it cost half of the page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def agenda_facts(row: Any) -> SafeString:
    """`row` (committee.views.AgendaRow)'s facts as a definition list, with "now: …" beside what
    has changed since the agenda was published, then the link to the record."""
    parts: list[str] = []
    if row.facts:
        if row.item.facts_frozen is not None:
            said = _("As the agenda was published; what has changed since is marked now.")
            parts.append(
                format_html(
                    '<p class="small text-secondary mb-1" data-testid="facts-frozen">{}</p>', said
                )
            )
        parts.append('<dl class="row small mb-2" data-testid="facts">\n  ')
        for fact in row.facts:
            now = ""
            if fact.now is not None:
                # The sentence is the catalogue's own; only the value is the record's, escaped.
                now = format_html(
                    ' <span class="badge text-bg-warning" data-testid="fact-now">{}</span>',
                    mark_safe(_("now: %(now)s") % {"now": escape(fact.now)}),  # noqa: S308  # nosec B308, B703
                )
            parts.append(
                format_html(
                    '<dt class="col-sm-3 col-lg-2 text-secondary fw-normal">{}</dt>'
                    '<dd class="col-sm-9 col-lg-10 mb-1">{}{}</dd>',
                    fact.label,
                    fact.value,
                    now,
                )
            )
        parts.append("\n</dl>")
    parts.append("\n")
    if row.link is not None:
        parts.append(
            format_html(
                '<a class="small d-print-none" href="{}" data-testid="record-link">{}</a>',
                row.link.href,
                row.link.words,
            )
        )
    parts.append("\n")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308, B703: each part format_html's
