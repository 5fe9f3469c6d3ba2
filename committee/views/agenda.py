"""A meeting's agenda review, its PDF pack, and the secretariat's agenda editing."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import selectors as accounts_selectors
from committee import pdf, policy, selectors, services
from committee.forms import (
    AgendaItemForm,
    MoveItemForm,
    RemoveItemForm,
)
from committee.services.meetings import MEETING_FLOW
from committee.views.common import (
    REFUSALS,
    _done,
    _item,
    _local,
    _meeting,
    _meeting_page,
    agenda_rows,
)
from config.api import actor_of
from config.confirm import Confirmation, ask, confirmed
from config.lifecycle import next_status
from config.pages import refused


@login_required
def meeting(request: HttpRequest, pk: int) -> HttpResponse:
    """The agenda review: every item in order with the facts to decide on and a link to its
    record; the secretariat's draft-agenda controls; the decisions already recorded."""
    return _meeting_page(request, _meeting(request, pk))


@login_required
def meeting_pack(request: HttpRequest, pk: int) -> HttpResponse:
    """The agenda pack as a PDF: the same items, facts and decisions as the page."""
    meeting = _meeting(request, pk)
    rows, general = agenda_rows(request, meeting)
    body = pdf.agenda_pack(
        meeting,
        rows,
        general,
        whole=policy.sees_whole_agenda(request.user, meeting.committee),
    )
    day = _local(meeting.starts_at, meeting).date().isoformat()
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="agenda-{day}.pdf"'
    return response


@login_required
@require_POST
def assemble(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    try:
        added = services.assemble_agenda(actor=actor_of(request), meeting=meeting)
    except REFUSALS as exc:
        return refused(request, exc)
    return _done(
        request,
        meeting,
        _("%(count)s new items were added to the draft agenda.")
        % {"count": formats.localize(added)},
    )


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publishing mails every attendee and freezes the agenda's facts: asked first."""
    meeting = _meeting(request, pk)
    if not confirmed(request):
        if not policy.can_run_meeting(request.user, meeting):
            return refused(
                request,
                PermissionDenied(
                    _("Only the committee's secretariat or its chair may publish an agenda.")
                ),
            )
        try:
            # Only a question that has an answer: a published agenda is not offered again.
            next_status(meeting.status, "publish", MEETING_FLOW, "a meeting")
        except ValidationError as exc:
            return refused(request, exc)
        items = selectors.agenda_for(request.user, meeting).count()
        people = selectors.seats_of_committee(meeting.committee)
        return ask(
            request,
            Confirmation(
                title=_("Publish the agenda"),
                message=_("You are about to publish the agenda of %(title)s.")
                % {"title": meeting.shown_title},
                consequences=[
                    ngettext(
                        "An invitation with the agenda goes by mail now to the person who fills "
                        "the committee's %(n)s seat.",
                        "An invitation with the agenda goes by mail now to each person who fills "
                        "one of the committee's %(n)s seats, the chair's included.",
                        people,
                    )
                    % {"n": people},
                    ngettext(
                        "The agenda's %(n)s item and its facts are frozen as they stand: the "
                        "meeting will show what it saw.",
                        "The agenda's %(n)s items and their facts are frozen as they stand: the "
                        "meeting will show what it saw.",
                        items,
                    )
                    % {"n": items},
                    _(
                        "The roster and the chair are fixed; later changes are recorded with a reason."
                    ),
                ],
                action=reverse("committee:publish", args=[meeting.pk]),
                button=_("Publish and invite"),
                back=reverse("committee:meeting", args=[meeting.pk]),
            ),
        )
    try:
        services.publish_agenda(actor=actor_of(request), meeting=meeting)
    except REFUSALS as exc:
        return refused(request, exc)
    return _done(request, meeting, _("The agenda is published and the attendees are invited."))


@login_required
@require_POST
def hold(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    try:
        services.hold_meeting(actor=actor_of(request), meeting=meeting)
    except REFUSALS as exc:
        return refused(request, exc)
    return _done(request, meeting, _("The meeting is marked as held; the minutes can follow."))


@login_required
@require_POST
def add_item(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    form = AgendaItemForm(request.POST, units=accounts_selectors.business_units_for(request.user))
    if not form.is_valid():
        return _meeting_page(request, meeting, add_form=form, status=400)
    try:
        item = services.add_agenda_item(
            actor=actor_of(request), meeting=meeting, **form.cleaned_data
        )
    except ValidationError as exc:
        form.refusal_in_place(exc)
        return _meeting_page(request, meeting, add_form=form, status=400)
    except REFUSALS as exc:
        return refused(request, exc)
    return _done(request, meeting, _("The item is on the agenda."), f"#item-{item.pk}")


@login_required
@require_POST
def remove_item(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    item = _item(request, meeting, item_pk)
    form = RemoveItemForm(request.POST, prefix=f"remove-{item.pk}")
    if not form.is_valid():
        return _meeting_page(request, meeting, failed=(item.pk, form), status=400)
    try:
        services.remove_agenda_item(
            actor=actor_of(request), meeting=meeting, item=item, reason=form.cleaned_data["reason"]
        )
    except REFUSALS as exc:
        return refused(request, exc)
    return _done(request, meeting, _("The item is taken off the agenda."), "#agenda")


@login_required
@require_POST
def move_item(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    items = list(selectors.agenda_for(request.user, meeting).order_by("position", "pk"))
    item = next((i for i in items if i.pk == item_pk), None)
    if item is None:
        raise Http404("No such item on this agenda.")
    form = MoveItemForm(request.POST)
    if not form.is_valid():
        return refused(request, ValidationError(_("Move an item up or down.")))
    try:
        services.reorder_agenda(
            actor=actor_of(request), meeting=meeting, order=form.order(items, item)
        )
    except REFUSALS as exc:
        return refused(request, exc)
    return redirect(reverse("committee:meeting", args=[meeting.pk]) + f"#item-{item.pk}")
