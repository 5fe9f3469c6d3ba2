"""Pages of the audit trail: its events, filtered and exported, and a check of the hash chain."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import policy as accounts_policy
from audit import selectors, sentences, services
from audit.filters import AuditTrailFilter
from audit.models import AuditEvent
from config.pages import EXPORT_LIMIT, Column, export, export_links, number, paginate

# What the daily check (audit.tasks.verify_audit_chain) leaves in the trail.
CHECK_VERBS = ("audit.verified", "audit.broken")
# The pages of the records events are about: the sentence links its target there (a reader
# who may not see the record gets its 404, as anywhere else). URL names, not imports.
TARGET_PAGES = {
    "systems.system": "systems:system",
    "cases.incident": "cases:incident",
    "cases.risk": "cases:risk",
    "actions.action": "actions:action",
    "actions.directive": "actions:directive",
    "committee.meeting": "committee:meeting",
    "committee.writtenresolution": "committee:resolution",
    "quality.project": "quality:project",
}


def _details(event: AuditEvent) -> str:
    return json.dumps(event.details, ensure_ascii=False, sort_keys=True)


def columns() -> list[Column]:
    """The trail's export, headed in the reader's language."""
    return [
        Column(_("Sequence"), lambda e: "" if e.sequence is None else e.sequence),
        Column(_("Occurred at"), lambda e: e.occurred_at),
        Column(_("Actor"), lambda e: e.actor_label),
        Column(_("Office"), lambda e: e.office),
        Column(_("Verb"), lambda e: e.verb),
        Column(_("Target type"), lambda e: e.target_type),
        Column(_("Target id"), lambda e: e.target_id),
        Column(_("Target"), lambda e: e.target_label),
        Column(_("Details"), _details),
        Column(_("Hash"), lambda e: e.hash or ""),
        Column(_("Event"), sentences.sentence),
    ]


def _target_page(event: AuditEvent) -> str | None:
    name = TARGET_PAGES.get(event.target_type)
    return reverse(name, args=[event.target_id]) if name and event.target_id.isdigit() else None


def _require_reader(request: HttpRequest) -> None:
    """Those who may not read the trail are not told it is here (the API shows them nothing)."""
    if not accounts_policy.can_read_audit_trail(request.user):
        raise Http404("No audit trail here.")


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    """The trail, newest first; a filter that does not parse shows its error, no rows, and a
    400."""
    _require_reader(request)
    events = selectors.events_for(request.user).order_by("-id")
    filters = AuditTrailFilter(request.GET, queryset=events)
    valid = filters.is_valid()
    rows = filters.qs if valid else events.none()
    if valid:
        # Sliced, so a large trail is never read whole into memory for a report.
        download = export(request, name="audit-trail", columns=columns(), rows=rows[:EXPORT_LIMIT])
        if download is not None:
            return download
    page = paginate(request, rows)
    for event in page:
        # Composed now, in the reader's language; the event keeps the words it was recorded in.
        event.sentence = sentences.sentence_html(event, href=_target_page(event))
        event.detail_rows = sentences.detail_rows(event)
    return render(
        request,
        "audit/event_list.html",
        {
            "filter": filters,
            "page": page,
            "exports": export_links(request),
            **_chain_context(request),
        },
        status=200 if valid else 400,
    )


def _chain_context(request: HttpRequest, result: Any = None) -> dict[str, Any]:
    """The chain panel: a check just run, else the last daily check the trail records (cheap:
    one indexed read; the walk itself runs only when the reader asks)."""
    last_check = (
        selectors.events_for(request.user).filter(verb__in=CHECK_VERBS).order_by("-id").first()
    )
    return {"result": result, "last_check": last_check, "query": request.GET.urlencode()}


@login_required
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    """Walk the whole chain now. It reads every event, so it is a button (POST), never a page
    load; with htmx the panel is replaced in place, otherwise a notice says what was found."""
    _require_reader(request)
    services.seal()  # what committed before the click is verified too
    result = services.verify_chain()
    if getattr(request, "htmx", False):
        return render(request, "audit/_chain.html", _chain_context(request, result))
    if result.ok:
        messages.success(
            request,
            ngettext(
                "The audit chain verifies: %(count)s event checked, none altered or missing.",
                "The audit chain verifies: %(count)s events checked, none altered or missing.",
                result.checked,
            )
            % {"count": number(result.checked)},
        )
    else:
        messages.error(
            request,
            _("The audit chain is broken at event #%(sequence)s: %(problem)s.")
            % {"sequence": result.broken_at, "problem": result.problem},
        )
    query = request.GET.urlencode()
    response = redirect("audit:events")
    if query:
        response["Location"] += "?" + query
    return response
