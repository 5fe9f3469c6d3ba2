"""Written resolutions: the list, the chair's form, and a resolution with its votes and ballot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from committee import policy, selectors, services
from committee.forms import ResolutionForm, VoteForm
from committee.models import Ballot, Committee, WrittenResolution
from committee.quorum import Tally
from committee.services.resolutions import seat_label
from committee.views.common import REFUSALS
from config import dates
from config.api import actor_of
from config.confirm import Confirmation, ask, confirmed
from config.errors import Conflict
from config.pages import paginate, refused
from systems.models import SuspensionOrder
from systems.selectors import suspensions_for


@dataclass
class SeatRow:
    """One seat of the vote as the page shows it: whose it is and whether (and, once the vote
    is closed or to its own voter, how) it voted."""

    ballot: Ballot
    label: str
    mine: bool
    shows_vote: bool


def _resolution(request: HttpRequest, pk: int) -> WrittenResolution:
    """A resolution the reader may not see is a 404, like any record."""
    return get_object_or_404(selectors.resolutions_for(request.user), pk=pk)


@login_required
def resolutions(request: HttpRequest) -> HttpResponse:
    """Every written resolution the reader may read, newest first, with its votes counted."""
    rows = selectors.resolutions_for(request.user).order_by("-opened_at", "-pk")
    return render(
        request,
        "committee/resolutions.html",
        {
            "page": paginate(request, rows),
            "can_open": policy.chaired_committees(request.user).exists(),
        },
    )


def _pending_suspensions(user: Any) -> QuerySet[SuspensionOrder]:
    return (
        suspensions_for(user)
        .filter(ratification=SuspensionOrder.Ratification.PENDING)
        .select_related("system")
        .order_by("issued_at", "pk")
    )


@login_required
def resolution_new(request: HttpRequest) -> HttpResponse:
    """The chair puts an urgent matter to the members in writing."""
    committees: QuerySet[Committee] = policy.chaired_committees(request.user).select_related(
        "chair_office"
    )
    if not committees.exists():
        return refused(
            request,
            PermissionDenied(
                _(
                    "Only the chair (or the chair's acting delegate) puts a matter to the "
                    "members in writing."
                )
            ),
        )
    suspensions = _pending_suspensions(request.user)
    status = 200
    if request.method == "POST":
        status = 400
        form = ResolutionForm(request.POST, committees=committees, suspensions=suspensions)
        if form.is_valid():
            try:
                resolution = services.open_resolution(actor=actor_of(request), **form.cleaned_data)
            except ValidationError as exc:
                form.refusal_in_place(exc)
            except Conflict as exc:
                # A state that refuses it (no meeting ahead, settled already): above the form.
                form.add_error(None, exc.message)
                status = 409
            except REFUSALS as exc:
                return refused(request, exc)
            else:
                messages.success(
                    request,
                    _("%(reference)s is open for votes; the members are told by mail.")
                    % {"reference": resolution.reference},
                )
                return redirect("committee:resolution", pk=resolution.pk)
    else:
        form = ResolutionForm(committees=committees, suspensions=suspensions)
    return render(request, "committee/resolution_form.html", {"form": form}, status=status)


def _seat_rows(request: HttpRequest, resolution: WrittenResolution) -> list[SeatRow]:
    ballots = list(selectors.ballots_of(resolution))
    filled = policy.seats_filled(request.user, ballots)
    closed = resolution.status != WrittenResolution.Status.OPEN
    return [
        SeatRow(
            ballot=ballot,
            label=seat_label(ballot),
            mine=ballot.pk in filled,
            # How each seat voted is shown once the vote closes, so no vote sways a later one.
            shows_vote=ballot.is_cast and (closed or ballot.pk in filled),
        )
        for ballot in ballots
    ]


def _resolution_page(
    request: HttpRequest,
    resolution: WrittenResolution,
    *,
    failed: VoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    seats = _seat_rows(request, resolution)
    tally = Tally.of(resolution.committee, [row.ballot for row in seats])
    is_open = resolution.status == WrittenResolution.Status.OPEN
    deadline_passed = is_open and resolution.deadline <= timezone.now()
    votes = []
    if is_open and not deadline_passed:
        for row in seats:
            if row.mine and not row.ballot.is_cast:
                bound = failed is not None and failed.data.get("seat") == row.ballot.seat
                form = failed if bound else VoteForm(initial={"seat": row.ballot.seat})
                votes.append((row, form))
    zone = resolution.committee.zone
    context = {
        "resolution": resolution,
        "seats": seats,
        "tally": tally,
        "is_open": is_open,
        "deadline_passed": deadline_passed,
        "votes": votes,
        "opened": dates.local(resolution.opened_at, zone),
        "deadline": dates.local(resolution.deadline, zone),
        "meeting_start": dates.local(resolution.meeting.starts_at, zone),
    }
    return render(request, "committee/resolution.html", context, status=status)


@login_required
def resolution(request: HttpRequest, pk: int) -> HttpResponse:
    """The matter, who has voted, the result once closed, and the reader's own ballot."""
    return _resolution_page(request, _resolution(request, pk))


def _confirmation(
    resolution: WrittenResolution, ballot: Ballot, form: VoteForm, remaining: int
) -> Confirmation:
    """What casting this vote does, said before it is done."""
    data = form.cleaned_data
    conflict = bool(data["conflict_declared"])
    choice = Ballot.Choice.ABSTAIN if conflict else data["choice"]
    label = dict(Ballot.Choice.choices).get(choice, choice)
    numbers = {"seat": seat_label(ballot), "reference": resolution.reference, "choice": label}
    consequences = [_("It cannot be changed or withdrawn afterwards.")]
    if conflict:
        consequences.append(
            _(
                "You declare a conflict of interest: the vote is recorded as an abstention, "
                "with your note, and does not count towards the quorum."
            )
        )
    if remaining <= 1:
        consequences.append(
            _(
                "Yours is the last seat to vote: the resolution closes now, and its result is "
                "recorded as a decision for the minutes of %(meeting)s."
            )
            % {"meeting": resolution.meeting.title}
        )
    else:
        deadline = dates.local(resolution.deadline, resolution.committee.zone)
        consequences.append(
            ngettext(
                "%(n)s other seat has still to vote; the resolution closes when every seat has "
                "voted, or at its deadline, %(deadline)s.",
                "%(n)s other seats have still to vote; the resolution closes when every seat "
                "has voted, or at its deadline, %(deadline)s.",
                remaining - 1,
            )
            % {
                "n": remaining - 1,
                "deadline": f"{deadline:%Y-%m-%d %H:%M} ({resolution.committee.time_zone})",
            }
        )
    fields = [("seat", ballot.seat), ("choice", data["choice"])]
    if conflict:
        fields += [("conflict_declared", "on"), ("conflict_note", data["conflict_note"])]
    return Confirmation(
        title=_("Cast your vote"),
        message=_("Your vote for the %(seat)s seat on %(reference)s is final: %(choice)s.")
        % numbers,
        consequences=consequences,
        action=reverse("committee:resolution-vote", args=[resolution.pk]),
        button=_("Cast my vote"),
        back=reverse("committee:resolution", args=[resolution.pk]),
        fields=fields,
        tone="warning" if conflict else "primary",
    )


@login_required
@require_POST
def vote(request: HttpRequest, pk: int) -> HttpResponse:
    """Casting a vote is final: asked first, with what will happen, then cast."""
    resolution = _resolution(request, pk)
    ballots = list(selectors.ballots_of(resolution))
    filled = policy.seats_filled(request.user, ballots)
    if not filled:
        return refused(
            request,
            PermissionDenied(
                _("Only a member who fills one of the resolution's voting seats votes on it.")
            ),
        )
    form = VoteForm(request.POST)
    if not form.is_valid():
        return _resolution_page(request, resolution, failed=form, status=400)
    data = form.cleaned_data
    if not confirmed(request):
        mine = [b for b in ballots if b.pk in filled]
        named = [b for b in mine if b.seat == data["seat"]]
        # No seat named: the one seat the person still has to vote for, if there is one.
        chosen = named if data["seat"] else [b for b in mine if not b.is_cast]
        ballot = chosen[0] if len(chosen) == 1 else None
        if ballot is None or ballot.is_cast or resolution.status != WrittenResolution.Status.OPEN:
            # Nothing to confirm: the service says why (voted already, closed, not your seat).
            return _cast(request, resolution, form)
        remaining = sum(not b.is_cast for b in ballots)
        return ask(request, _confirmation(resolution, ballot, form, remaining))
    return _cast(request, resolution, form)


def _cast(request: HttpRequest, resolution: WrittenResolution, form: VoteForm) -> HttpResponse:
    data = form.cleaned_data
    try:
        services.cast_vote(
            actor=actor_of(request),
            resolution=resolution,
            seat=data["seat"],
            choice=data["choice"],
            conflict_declared=data["conflict_declared"],
            conflict_note=data["conflict_note"],
        )
    except ValidationError as exc:
        form.refusal_in_place(exc)
        return _resolution_page(request, resolution, failed=form, status=400)
    except REFUSALS as exc:
        return refused(request, exc)
    resolution.refresh_from_db()
    if resolution.status == WrittenResolution.Status.OPEN:
        messages.success(request, _("Your vote is recorded."))
    else:
        messages.success(
            request,
            _("Your vote is recorded; every seat has voted, and the result is: %(status)s.")
            % {"status": resolution.get_status_display()},
        )
    return redirect("committee:resolution", pk=resolution.pk)
