"""In the meeting: decisions, attendance with the live quorum, and the minutes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import selectors as accounts_selectors
from committee import policy, selectors, services
from committee.forms import (
    ActionFormSet,
    ApproveMinutesForm,
    AttendanceForm,
    DecisionForm,
    MinutesForm,
)
from committee.minutes_draft import first_draft
from committee.models import Meeting, Minutes
from committee.services.meetings import IN_SESSION, MEETING_FLOW
from committee.services.minutes import etag as minutes_etag
from committee.views.common import (
    REFUSALS,
    AgendaRow,
    RecordLinks,
    _done,
    _item,
    _meeting,
    _quorum,
)
from config.api import actor_of
from config.confirm import Confirmation, ask, confirmed
from config.errors import Conflict, PreconditionFailed
from config.pages import refused

# --- Decisions --------------------------------------------------------------------------------


@login_required
def decide(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Record the committee's decision on one item, with the actions it creates. The chair's
    decision, recorded by the chair or by the secretariat; refused without quorum."""
    meeting = _meeting(request, pk)
    item = _item(request, meeting, item_pk)
    units = accounts_selectors.business_units_for(request.user).order_by("code")
    status = 200
    if request.method == "POST":
        status = 400
        form = DecisionForm(request.POST, item=item)
        formset = ActionFormSet(request.POST, prefix="actions", form_kwargs={"units": units})
        if form.is_valid() and formset.is_valid():
            try:
                decision = services.record_decision(
                    actor=actor_of(request),
                    meeting=meeting,
                    item=item,
                    actions=formset.specs(),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                form.refusal_in_place(exc)
            except Conflict as exc:
                # Not quorate, or decided meanwhile: say why above the form, keeping the wording.
                form.add_error(None, exc.message)
                status = 409
            except REFUSALS as exc:
                return refused(request, exc)
            else:
                return _done(
                    request,
                    meeting,
                    _("Decision %(reference)s is recorded.") % {"reference": decision.reference},
                    f"#item-{item.pk}",
                )
    else:
        form = DecisionForm(item=item)
        formset = ActionFormSet(prefix="actions", form_kwargs={"units": units})
    quorum = _quorum(request, meeting)[1]
    recorded = selectors.decisions_for(request.user, meeting).filter(item=item).first()
    return render(
        request,
        "committee/decide.html",
        {
            "meeting": meeting,
            "row": AgendaRow.of(item, recorded, timezone.localdate(), RecordLinks()),
            "form": form,
            "formset": formset,
            "quorum": quorum,
            "can_decide": meeting.status in IN_SESSION
            and not meeting.is_locked
            and policy.decision_capacity(request.user, meeting) is not None,
        },
        status=status,
    )


# --- Attendance -------------------------------------------------------------------------------


def _roster(request: HttpRequest, pk: int) -> Meeting:
    """The roster is the committee's and oversight's to read; to a unit it is a 404."""
    meeting = _meeting(request, pk)
    if not policy.sees_whole_agenda(request.user, meeting.committee):
        raise Http404("Only the committee and oversight read the roster.")
    return meeting


@login_required
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """The frozen roster, who came (present, absent, represented by a delegate) and whether the
    meeting is quorate; the secretariat (or the chair) records everyone's attendance here in
    one save."""
    meeting = _roster(request, pk)
    roster, quorum = _quorum(request, meeting)
    can_record = (
        policy.can_run_meeting(request.user, meeting)
        and meeting.status in IN_SESSION
        and not meeting.is_locked
    )
    errors: list[str] = []
    status = 200
    forms: dict[int, AttendanceForm] = {}
    if can_record:
        data = request.POST if request.method == "POST" else None
        for row in roster:
            initial = {
                "status": row.status,
                "delegate": row.delegate.get_username() if row.delegate else "",
                "note": row.note,
            }
            forms[row.person_id] = AttendanceForm(data, initial=initial, prefix=f"p{row.person_id}")
    if request.method == "POST":
        if not can_record:
            return refused(
                request,
                PermissionDenied(
                    _("Only the committee's secretariat or its chair may record attendance.")
                ),
            )
        if all(form.is_valid() for form in forms.values()):
            by_name = {row.person.get_username(): row.person_id for row in roster}
            try:
                changed = services.record_attendance_sheet(
                    actor=actor_of(request),
                    meeting=meeting,
                    marks=[
                        services.Mark(person=row.person, **forms[row.person_id].cleaned_data)
                        for row in roster
                    ],
                )
            except ValidationError as exc:
                for key, messages_ in getattr(exc, "message_dict", {"": exc.messages}).items():
                    name, _dot, field = key.rpartition(".")
                    form = forms.get(by_name.get(name, 0))
                    if form is None:
                        errors += messages_
                    else:
                        form.add_error(field if field in form.fields else None, messages_)
            except REFUSALS as exc:
                return refused(request, exc)
            else:
                messages.success(
                    request,
                    ngettext(
                        "Attendance is saved: %(n)s line changed.",
                        "Attendance is saved: %(n)s lines changed.",
                        len(changed),
                    )
                    % {"n": len(changed)},
                )
                return redirect(reverse("committee:attendance", args=[meeting.pk]))
        status = 400
    lines = [(row, forms.get(row.person_id)) for row in roster]
    return render(
        request,
        "committee/attendance.html",
        {
            "meeting": meeting,
            "lines": lines,
            "quorum": quorum,
            "can_record": can_record,
            "started": meeting.has_started(),
            "poll": meeting.status in IN_SESSION and not meeting.is_locked,
            "errors": errors,
        },
        status=status,
    )


@login_required
def quorum(request: HttpRequest, pk: int) -> HttpResponse:
    """The quorum panel alone, which the meeting and attendance pages poll while in session."""
    meeting = _roster(request, pk)
    state = _quorum(request, meeting)[1]
    poll = meeting.status in IN_SESSION and not meeting.is_locked
    return render(
        request, "committee/_quorum.html", {"meeting": meeting, "quorum": state, "poll": poll}
    )


# --- Minutes ----------------------------------------------------------------------------------


def _minutes_page(
    request: HttpRequest,
    meeting: Meeting,
    *,
    draft_form: MinutesForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if not policy.can_read_minutes(request.user, meeting):
        raise Http404("Only the committee and oversight read the minutes.")
    minutes: Minutes | None = selectors.minutes_for(request.user, meeting)
    version = minutes_etag(minutes) if minutes is not None else ""
    can_draft = (
        policy.can_run_meeting(request.user, meeting)
        and meeting.status in IN_SESSION
        and not meeting.is_locked
    )
    if can_draft and draft_form is None:
        # The first draft is made of what was recorded; the secretariat edits it from there.
        body = minutes.body if minutes else first_draft(request.user, meeting)
        draft_form = MinutesForm(initial={"body": body, "version": version})
    can_approve = (
        policy.can_approve_minutes(request.user, meeting)
        and meeting.status in MEETING_FLOW["approve"]
        and minutes is not None
        and bool(minutes.body.strip())
    )
    return render(
        request,
        "committee/minutes.html",
        {
            "meeting": meeting,
            "minutes": minutes,
            "draft_form": draft_form if can_draft else None,
            "approve_form": ApproveMinutesForm(initial={"version": version})
            if can_approve
            else None,
        },
        status=status,
    )


@login_required
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """The minutes: the secretariat drafts them against the version it read; the chair approves
    them, and so locks the meeting's record."""
    return _minutes_page(request, _meeting(request, pk))


@login_required
@require_POST
def draft_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    form = MinutesForm(request.POST)
    if not form.is_valid():
        return _minutes_page(request, meeting, draft_form=form, status=400)
    try:
        services.draft_minutes(
            actor=actor_of(request),
            meeting=meeting,
            body=form.cleaned_data["body"],
            expected_version=form.cleaned_data["version"] or None,
        )
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(request, _("The draft minutes are saved."))
    return redirect("committee:minutes", pk=meeting.pk)


@login_required
@require_POST
def approve_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    form = ApproveMinutesForm(request.POST)
    if not form.is_valid():
        return refused(request, ValidationError(_("Approve the minutes from their page.")))
    if not confirmed(request):
        if not policy.can_approve_minutes(request.user, meeting):
            return refused(
                request,
                PermissionDenied(
                    _("Only the chair (or the chair's acting delegate) approves minutes.")
                ),
            )
        read = selectors.minutes_for(request.user, meeting)
        if read is None or minutes_etag(read) != form.cleaned_data["version"]:
            # Asking to confirm a text that is no longer the one read would be asking the
            # wrong question: the reader reloads first.
            return refused(
                request,
                PreconditionFailed(
                    _("The minutes changed since you read them; reload them first.")
                ),
            )
        decided = selectors.decisions_for(request.user, meeting).count()
        return ask(
            request,
            Confirmation(
                title=_("Approve the minutes"),
                message=_("You are about to approve the minutes of %(title)s.")
                % {"title": meeting.shown_title},
                consequences=[
                    _("The minutes are locked as they read now; nobody can edit them again."),
                    ngettext(
                        "The meeting's %(n)s decision is locked with them.",
                        "The meeting's %(n)s decisions are locked with them.",
                        decided,
                    )
                    % {"n": decided},
                    _("Anything found wrong later is recorded as a correction, linked to them."),
                ],
                action=reverse("committee:minutes-approve", args=[meeting.pk]),
                button=_("Approve and lock"),
                back=reverse("committee:minutes", args=[meeting.pk]),
                fields=[("version", form.cleaned_data["version"])],
                tone="success",
            ),
        )
    try:
        services.approve_minutes(
            actor=actor_of(request), meeting=meeting, expected_version=form.cleaned_data["version"]
        )
    except REFUSALS as exc:
        return refused(request, exc)
    messages.success(request, _("The minutes are approved; the meeting's record is locked."))
    return redirect("committee:minutes", pk=meeting.pk)
