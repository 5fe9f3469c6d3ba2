"""An agenda item as a meeting's page shows it, and its facts with the link to its record (on the
item's own page too): written here rather than by template, which drew them once an item and
cost most of a long agenda's page. Plain formatting, every text through `e` (html.escape, what
Django's escape does, without its lazy-string wrapper): format_html's checks on each of some
18,000 values were themselves a tenth of the page."""

from __future__ import annotations

import functools
from html import escape as e
from typing import Any

from django import template
from django.template import Context
from django.template.defaultfilters import linebreaksbr
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


@functools.cache
def _words(language: str | None) -> dict[str, str]:
    """The words every item says, in `language` (the active one), translated and escaped once."""
    return {
        key: e(words)
        for key, words in {
            "frozen": _("As the agenda was published; what has changed since is marked now."),
            "now": _("now: %(now)s"),
            "overdue": _("Overdue"),
            "added": _("Added after publication"),
            "discussed": _("Discussed"),
            "decide": _("Record the decision"),
            "move_up": _("Move up"),
            "up": _("Up"),
            "move_down": _("Move down"),
            "down": _("Down"),
            "reason": _("Reason for removing"),
            "remove": _("Remove from the agenda"),
        }.items()
    }


@register.simple_tag
def agenda_facts(row: Any) -> SafeString:
    """`row` (committee.views.AgendaRow)'s facts as a definition list, with "now: …" beside what
    has changed since the agenda was published, then the link to the record."""
    return mark_safe(_facts(row, _words(get_language())))  # noqa: S308  # nosec B308, B703: escaped


def _facts(row: Any, words: dict[str, str]) -> str:
    parts: list[str] = []
    if row.facts:
        if row.item.facts_frozen is not None:
            parts.append(
                f'<p class="small text-secondary mb-1" data-testid="facts-frozen">{words["frozen"]}</p>'
            )
        parts.append('<dl class="row small mb-2" data-testid="facts">\n  ')
        for fact in row.facts:
            now = ""
            if fact.now is not None:
                # The catalogue's sentence around the record's value, each escaped.
                said = words["now"].replace("%(now)s", e(str(fact.now)))
                now = f' <span class="badge text-bg-warning" data-testid="fact-now">{said}</span>'
            parts.append(
                f'<dt class="col-sm-3 col-lg-2 text-secondary fw-normal">{e(str(fact.label))}</dt>'
                f'<dd class="col-sm-9 col-lg-10 mb-1">{e(str(fact.value))}{now}</dd>'
            )
        parts.append("\n</dl>")
    parts.append("\n")
    if row.link is not None:
        parts.append(
            f'<a class="small d-print-none" href="{e(row.link.href)}" data-testid="record-link">'
            f"{e(row.link.words)}</a>"
        )
    parts.append("\n")
    return "".join(parts)


@register.simple_tag(takes_context=True)
def agenda_item(context: Context, row: Any, number: int, first: bool, last: bool) -> SafeString:
    """One item of a meeting's agenda as the page shows it: its heading and badges, summary,
    facts, decision (or the button to record one) and, while the agenda may be edited, the
    controls to move and remove it (`first` and `last` may not move further)."""
    item, words = row.item, _words(get_language())
    parts = [
        f'<article class="agenda-item card mb-3" id="item-{item.pk}" data-testid="agenda-item" '
        f'data-item="{item.pk}"><div class="card-body"><div class="d-flex flex-wrap '
        'justify-content-between gap-2"><h3 class="h5 mb-1"><span class="text-secondary">'
        f'{number}.</span> <span data-testid="item-title">{e(str(row.heading))}</span></h3>'
        '<div class="d-flex flex-wrap gap-1 align-items-start">'
        '<span class="badge text-bg-light border" data-testid="item-kind">'
        f"{e(str(item.get_kind_display()))}</span>"
    ]
    if item.unit is not None:
        parts.append(
            '<span class="badge text-bg-secondary" data-testid="item-unit" '
            f'title="{e(item.unit.name)}">{e(item.unit.code)}</span>'
        )
    if row.overdue:
        parts.append(
            '<span class="badge text-bg-danger" data-testid="item-overdue">'
            f"{words['overdue']}</span>"
        )
    if item.added_after_publication:
        parts.append(f'<span class="badge text-bg-warning">{words["added"]}</span>')
    if item.discussed_at:
        parts.append(f'<span class="badge text-bg-info">{words["discussed"]}</span>')
    parts.append("</div></div>")
    if row.summary:
        parts.append(f'<p class="mb-2">{linebreaksbr(row.summary, autoescape=True)}</p>')
    parts.append(_facts(row, words))
    if row.decision:
        # Rare (a decided item) and shared with the meeting's other decisions: its include.
        assert context.template is not None  # a tag renders inside a template
        with context.push(decision=row.decision):
            decision = context.template.engine.get_template("committee/_decision.html")
            parts.append(decision.render(context))
    elif context.get("can_decide"):
        parts.append(
            '<div class="mt-2 d-print-none"><a class="btn btn-sm btn-success" '
            f'href="{e(row.decide_url)}" data-testid="decide">{words["decide"]}</a></div>'
        )
    if context.get("editable"):
        csrf = e(str(context.get("csrf_token", "")))
        parts.append(_controls(row, words, csrf, first=first, last=last))
    parts.append("</div></article>")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308, B703: every text escaped


def _controls(row: Any, words: dict[str, str], csrf: str, *, first: bool, last: bool) -> str:
    """Move up, move down and (with no decision on it) remove, with the reason the view passes
    back for the one item whose removal was refused. `csrf` comes escaped."""
    pk, move = row.item.pk, e(row.move_url)
    token = f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
    parts = [
        '<div class="d-flex flex-wrap gap-2 align-items-start mt-2 pt-2 border-top d-print-none" '
        'data-testid="item-controls">'
    ]
    for direction, stops, label, arrow, short in (
        ("up", first, words["move_up"], "↑", words["up"]),
        ("down", last, words["move_down"], "↓", words["down"]),
    ):
        parts.append(
            f'<form method="post" action="{move}" class="m-0" data-testid="move-{direction}">'
            f'{token}<input type="hidden" name="direction" value="{direction}">'
            '<button type="submit" class="btn btn-sm btn-outline-secondary"'
            f'{" disabled" if stops else ""} aria-label="{label}">{arrow} {short}</button></form>'
        )
    if not row.decision:
        errors = "".join(
            f'<div class="invalid-feedback d-block" data-testid="remove-error">{e(str(error))}</div>'
            for error in row.remove_errors
        )
        invalid = " is-invalid" if row.remove_errors else ""
        parts.append(
            f'<form method="post" action="{e(row.remove_url)}" class="m-0 d-flex flex-wrap gap-1 '
            f'align-items-start" data-testid="remove-form">{token}<div><label '
            f'class="visually-hidden" for="id_remove-{pk}-reason">{words["reason"]}</label>'
            f'<input type="text" name="remove-{pk}-reason" id="id_remove-{pk}-reason" '
            f'value="{e(str(row.remove_reason))}" maxlength="4000" required class="form-control '
            f'form-control-sm{invalid}" placeholder="{words["reason"]}">{errors}</div>'
            f'<button type="submit" class="btn btn-sm btn-outline-danger">{words["remove"]}'
            "</button></form>"
        )
    parts.append("</div>")
    return "".join(parts)
