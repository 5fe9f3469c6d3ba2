"""Written resolutions between meetings: the chair puts a matter to the seats, each seat votes once
before the deadline under the committee's quorum, and the result is a decision on the next
meeting that its minutes list; mail and the API, the pages and the confirmation step."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Office, User
from audit.models import AuditEvent
from committee import policy, selectors, services
from committee.minutes_draft import first_draft
from committee.models import Ballot, Decision, Meeting, WrittenResolution
from committee.services import resolution_mail
from committee.tasks import close_due_resolutions
from config.errors import Conflict
from outbox.models import Message
from systems import services as systems_services
from systems.models import SuspensionOrder
from tests.committee.conftest import make_meeting
from tests.factories import BusinessUnitFactory, DelegationFactory, UserFactory
from tests.pages import assert_constant_queries

pytestmark = pytest.mark.django_db

S = WrittenResolution.Status


def soon(days: float = 2) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def put(actor: User, committee: Any, **fields: Any) -> WrittenResolution:
    values = {
        "title": "Take the project sharing tool's public links down",
        "text": "Resolved: public links of the sharing tool stay off until MFA is enforced.",
        "deadline": soon(),
        **fields,
    }
    return services.open_resolution(actor=actor, committee=committee, **values)


def vote(person: User, resolution: WrittenResolution, choice: str = "for", **more: Any) -> Ballot:
    return services.cast_vote(actor=person, resolution=resolution, choice=choice, **more)


def fresh(resolution: WrittenResolution) -> WrittenResolution:
    return WrittenResolution.objects.select_related("decision", "meeting").get(pk=resolution.pk)


def decision_of(resolution: WrittenResolution) -> Decision:
    decision = fresh(resolution).decision
    assert decision is not None, "not closed"
    return decision


def verbs(resolution: WrittenResolution) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_id=str(resolution.pk), verb__startswith="resolution.")
        .order_by("pk")
        .values_list("verb", flat=True)
    )


@pytest.fixture
def resolution(committee, meeting, chair) -> WrittenResolution:
    """Open for votes; its seats are the CEO's (the chair's), the CISO's and the CQO's."""
    return put(chair, committee)


@pytest.fixture
def deputy(committee) -> User:
    """Acts for the chair (CEO) while the CEO is away."""
    person = UserFactory.create(username="deputy")
    DelegationFactory.create(office=committee.chair_office, delegate=person)
    return person


# --- Who may: the policy's truth table, and the services agreeing with it -----------------------


@pytest.mark.parametrize(
    ("role", "opens", "votes", "reads"),
    [
        ("chair", True, True, True),
        ("deputy", True, True, True),  # the chair's acting delegate
        ("ciso", False, True, True),  # a member
        ("secretary", False, False, True),
        ("bu_member", False, False, False),
        ("auditor", False, False, True),
    ],
)
def test_the_chair_opens_members_vote_and_the_committee_reads(
    request, committee, meeting, chair, role, opens, votes, reads
):
    user = request.getfixturevalue(role)
    resolution = put(chair, committee)
    assert policy.can_open_resolution(user, committee) is opens
    assert bool(policy.seats_filled(user, resolution.ballots.all())) is votes
    assert policy.visible_resolutions(user).filter(pk=resolution.pk).exists() is reads
    if not opens:
        with pytest.raises(PermissionDenied):
            put(user, committee)
    else:
        put(user, committee)
    if not votes:
        with pytest.raises(PermissionDenied):
            vote(user, resolution)
    else:
        assert vote(user, resolution).cast_by == user


# --- Opening ----------------------------------------------------------------------------------


def test_opening_freezes_one_ballot_per_voting_seat_and_records_the_next_meeting(
    resolution, meeting, chair, ciso, cqo
):
    ballots = list(resolution.ballots.order_by("-is_chair", "seat"))
    assert [(b.seat, b.person, b.is_chair) for b in ballots] == [
        ("CEO", chair, True),
        ("CISO", ciso, False),
        ("CQO", cqo, False),
    ]
    assert resolution.reference.startswith(f"WR-{timezone.localdate().year}-")
    assert resolution.meeting == meeting and resolution.status == S.OPEN
    assert (resolution.proposed_by, resolution.proposed_office) == (chair, "CEO")
    assert verbs(resolution) == ["resolution.opened"]


def test_a_resolution_needs_a_meeting_ahead_to_be_recorded_in(committee, meeting, chair, secretary):
    services.cancel_meeting(actor=secretary, meeting=meeting, reason="Board offsite")
    with pytest.raises(Conflict, match="schedule its next meeting") as refused:
        put(chair, committee)
    assert refused.value.code == "no_next_meeting"
    assert not WrittenResolution.objects.exists()


@pytest.mark.parametrize(
    ("deadline", "message"),
    [(-1, "still ahead"), (15, "14 days at most")],
)
def test_the_deadline_is_ahead_and_two_weeks_away_at_most(
    committee, meeting, chair, deadline, message
):
    with pytest.raises(ValidationError, match=message):
        put(chair, committee, deadline=soon(deadline))


def test_an_effect_names_a_suspension_awaiting_ratification(committee, meeting, chair):
    with pytest.raises(ValidationError, match="suspension"):
        put(chair, committee, effect="ratify_suspension")
    with pytest.raises(ValidationError, match="Word the resolution"):
        put(chair, committee, text="  ")


# --- Voting and closing -----------------------------------------------------------------------


def test_a_resolution_carried_by_every_seat_closes_at_once_as_a_decision(
    resolution, meeting, chair, ciso, cqo
):
    vote(chair, resolution)
    vote(ciso, resolution)
    assert fresh(resolution).status == S.OPEN  # the CQO's seat has not voted
    vote(cqo, resolution, "against")
    resolution = fresh(resolution)
    assert resolution.status == S.CARRIED and resolution.closed_at is not None
    decision = resolution.decision
    assert decision.meeting == meeting and decision.item is None
    assert decision.outcome == Decision.Outcome.APPROVED
    assert decision.recorded_capacity == "written" and decision.chair == chair
    assert resolution.reference in decision.text
    assert "2 for, 1 against, 0 abstaining" in decision.text
    assert verbs(resolution) == [
        "resolution.opened",
        *["resolution.vote_cast"] * 3,
        "resolution.closed",
    ]
    closed = AuditEvent.objects.get(verb="resolution.closed")
    assert closed.actor == cqo and closed.details["outcome"] == "carried"


def test_more_against_than_for_is_not_carried(resolution, chair, ciso, cqo):
    vote(chair, resolution)
    vote(ciso, resolution, "against")
    vote(cqo, resolution, "against")
    resolution = fresh(resolution)
    assert resolution.status == S.NOT_CARRIED
    assert resolution.decision.outcome == Decision.Outcome.REJECTED


def test_without_a_quorum_at_the_deadline_it_lapses(resolution, chair):
    vote(chair, resolution)  # 1 of 3 seats: 2 are needed
    assert services.close_due_resolutions() == 0  # not due yet
    with time_machine.travel(resolution.deadline + dt.timedelta(minutes=1)):
        assert services.close_due_resolutions() == 1
    resolution = fresh(resolution)
    assert resolution.status == S.LAPSED
    assert resolution.decision.outcome == Decision.Outcome.DEFERRED
    assert "without a quorum" in resolution.decision.text


def test_the_chairs_seat_must_vote_where_the_quorum_needs_the_chair(resolution, ciso, cqo):
    vote(ciso, resolution)
    vote(cqo, resolution)  # 2 of 3 seats, but not the chair's
    with time_machine.travel(resolution.deadline + dt.timedelta(minutes=1)):
        close_due_resolutions.apply().get()
    resolution = fresh(resolution)
    assert resolution.status == S.LAPSED
    assert "the chair's seat did not vote" in resolution.decision.text


def test_a_declared_conflict_abstains_and_does_not_count_towards_the_quorum(
    resolution, chair, ciso
):
    with pytest.raises(ValidationError, match="conflict of interest is"):
        vote(ciso, resolution, "", conflict_declared=True)
    with pytest.raises(ValidationError, match="abstains"):
        vote(ciso, resolution, "for", conflict_declared=True, conflict_note="Vendor shares")
    ballot = vote(ciso, resolution, "", conflict_declared=True, conflict_note="Vendor shares")
    assert (ballot.choice, ballot.conflict_declared) == ("abstain", True)
    vote(chair, resolution)
    # Two seats have voted, but the CISO's conflict does not count: 1 of the 2 needed.
    with time_machine.travel(resolution.deadline + dt.timedelta(minutes=1)):
        services.close_due_resolutions()
    resolution = fresh(resolution)
    assert resolution.status == S.LAPSED
    assert "1 abstaining for a conflict of interest" in resolution.decision.text


def test_a_seat_votes_once_and_the_second_vote_is_a_conflict(resolution, ciso):
    vote(ciso, resolution)
    with pytest.raises(Conflict) as second:
        vote(ciso, resolution, "against")
    assert second.value.code == "already_voted"
    assert Ballot.objects.get(resolution=resolution, seat="CISO").choice == "for"


def test_an_office_seat_is_voted_by_its_acting_delegate_and_then_only_once(
    committee, resolution, ciso
):
    stand_in = UserFactory.create(username="ciso_deputy")
    DelegationFactory.create(office=Office.objects.get(code="CISO"), delegate=stand_in)
    ballot = vote(stand_in, resolution, "against")
    assert (ballot.person, ballot.cast_by, ballot.cast_capacity) == (ciso, stand_in, "acting")
    event = AuditEvent.objects.get(verb="resolution.vote_cast")
    assert (event.actor, event.office, event.details["seat"]) == (stand_in, "CISO", "CISO")
    with pytest.raises(Conflict):
        vote(ciso, resolution)  # the seat has voted, whoever fills it


def test_no_vote_after_the_deadline_or_once_closed(resolution, chair, ciso, cqo):
    with (
        time_machine.travel(resolution.deadline + dt.timedelta(seconds=1)),
        pytest.raises(Conflict, match="deadline"),
    ):
        vote(ciso, resolution)
    for person in (chair, ciso, cqo):
        vote(person, resolution)
    with pytest.raises(Conflict, match="closed"):
        vote(ciso, resolution)


def test_the_beat_closing_twice_closes_once(resolution, chair, ciso):
    vote(chair, resolution)
    vote(ciso, resolution)
    with time_machine.travel(resolution.deadline + dt.timedelta(hours=1)):
        assert services.close_due_resolutions() == 1
        assert services.close_due_resolutions() == 0
        assert close_due_resolutions.apply().get() == {"closed": 0}
    assert fresh(resolution).status == S.CARRIED
    assert Decision.objects.count() == 1
    assert AuditEvent.objects.filter(verb="resolution.closed").count() == 1


def test_a_carried_ratification_settles_the_suspension(committee, meeting, chair, ciso, cqo):
    order = _suspension(ciso)
    resolution = put(chair, committee, effect="ratify_suspension", suspension=order)
    with pytest.raises(Conflict) as twice:
        put(chair, committee, effect="overturn_suspension", suspension=order)
    assert twice.value.code == "already_open"
    for person in (chair, ciso, cqo):
        vote(person, resolution)
    order.refresh_from_db()
    decision = decision_of(resolution)
    assert order.ratification == SuspensionOrder.Ratification.RATIFIED
    assert order.ratification_decision == decision
    assert decision.effect == "ratify_suspension"


def _suspension(ciso: User) -> SuspensionOrder:
    unit = BusinessUnitFactory.create(code="CLOUD", name="Cloud Services")
    admin = UserFactory.create(username="registrar", is_superuser=True, is_staff=True)
    system = systems_services.register_system(
        actor=admin, unit=unit, code="share-tool", name="Project sharing tool"
    )
    return systems_services.suspend_system(actor=ciso, system=system, reason="Breach")


# --- The next meeting's record ----------------------------------------------------------------


def test_the_result_is_a_decision_of_the_next_meeting_and_in_its_first_draft(
    login_as, committee, chair, ciso, cqo, secretary
):
    make_meeting(committee, days=-20, title="Last month's RCC", status=Meeting.Status.HELD)
    later = make_meeting(committee, days=30, title="The month after")
    nearest = make_meeting(committee, days=3, title="This month's RCC")
    resolution = put(chair, committee)
    for person in (chair, ciso, cqo):
        vote(person, resolution)
    decision = decision_of(resolution)
    assert decision.meeting == nearest and later.decisions.count() == 0
    draft = first_draft(secretary, nearest)
    assert "Decisions between meetings" in draft
    between = draft.split("Decisions between meetings", 1)[1]
    assert decision.reference in between and resolution.reference in between
    assert "Other decisions" not in draft  # listed once, where it belongs
    page = login_as(ciso).get(reverse("committee:meeting", args=[nearest.pk])).content.decode()
    assert 'data-testid="decision-written"' in page and decision.reference in page


# --- Mail ---------------------------------------------------------------------------------


def test_each_seat_is_mailed_once_with_a_link_to_vote(
    settings, committee, meeting, chair, ciso, cqo
):
    settings.SITE_URL = "https://rcc.example.com"
    resolution = put(chair, committee)
    queued = Message.objects.get(task="committee.tasks.send_resolution_notices")
    assert queued.args == [resolution.pk]
    assert mail.outbox == []  # nothing leaves inside the transaction
    assert resolution_mail.send_notices(resolution.pk) == 3
    assert resolution_mail.send_notices(resolution.pk) == 0  # each ballot is claimed once
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in (chair, ciso, cqo))
    link = f"https://rcc.example.com/resolutions/{resolution.pk}/"
    for message in mail.outbox:
        assert link in message.body
        assert resolution.reference in message.subject
    ciso_mail = next(m for m in mail.outbox if m.to == [ciso.email])
    assert "for the CISO seat" in ciso_mail.body
    assert resolution_mail.pending_notice_resolutions() == []


def test_a_mail_that_fails_is_released_for_the_sweep(monkeypatch, resolution):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("mail server down")

    monkeypatch.setattr(resolution_mail, "_mail_ballot", broken)
    assert resolution_mail.send_notices(resolution.pk) == 0
    assert resolution.ballots.filter(notified_at__isnull=True).count() == 3
    later = timezone.now() + dt.timedelta(minutes=11)
    with time_machine.travel(later):
        assert resolution_mail.pending_notice_resolutions() == [resolution.pk]


# --- The dashboard's selector --------------------------------------------------------------


def test_votes_waiting_for_a_person(resolution, chair, ciso, secretary, committee):
    assert [b.seat for b in selectors.resolutions_waiting_for(ciso)] == ["CISO"]
    assert selectors.resolutions_waiting_for(secretary).count() == 0
    vote(ciso, resolution)
    assert selectors.resolutions_waiting_for(ciso).count() == 0
    assert [b.seat for b in selectors.resolutions_waiting_for(chair)] == ["CEO"]
    stand_in = UserFactory.create(username="cqo_deputy")
    DelegationFactory.create(office=Office.objects.get(code="CQO"), delegate=stand_in)
    assert [b.seat for b in selectors.resolutions_waiting_for(stand_in)] == ["CQO"]


# --- Pages --------------------------------------------------------------------------------


def test_the_list_costs_the_same_queries_for_3_and_30_resolutions(
    login_as, committee, meeting, chair, ciso
):
    client = login_as(ciso)

    def grow(n: int) -> None:
        for index in range(n):
            resolution = put(chair, committee, title=f"Matter {index}")
            vote(ciso, resolution)

    assert_constant_queries(client, reverse("committee:resolutions"), grow)
    page = client.get(reverse("committee:resolutions")).content.decode()
    assert page.count('data-testid="resolution-row"') == 30
    assert "1 of 3" in page


def test_the_chair_opens_one_from_the_form(login_as, committee, meeting, chair, ciso):
    assert login_as(ciso).get(reverse("committee:resolution-new")).status_code == 403
    client = login_as(chair)
    form = client.get(reverse("committee:resolution-new"))
    assert form.status_code == 200 and 'data-testid="resolution-form"' in form.content.decode()
    local = timezone.localtime(soon(3), committee.zone)
    body = {
        "committee": committee.pk,
        "title": "Hold the certificate service's release",
        "text": "Resolved: the release waits for the CQO's gate.",
        "deadline": local.strftime("%Y-%m-%dT%H:%M"),
        "effect": "none",
    }
    too_late = {
        **body,
        "deadline": timezone.localtime(soon(20), committee.zone).strftime("%Y-%m-%dT%H:%M"),
    }
    refused = client.post(reverse("committee:resolution-new"), too_late)
    assert refused.status_code == 400 and "14 days at most" in refused.content.decode()
    response = client.post(reverse("committee:resolution-new"), body)
    resolution = WrittenResolution.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("committee:resolution", args=[resolution.pk])
    # The deadline typed is read on the committee's clock.
    assert timezone.localtime(resolution.deadline, committee.zone).strftime(
        "%Y-%m-%dT%H:%M"
    ) == local.strftime("%Y-%m-%dT%H:%M")


def test_a_resolution_page_offers_the_vote_to_its_seats_only(
    login_as, resolution, ciso, secretary, bu_member
):
    url = reverse("committee:resolution", args=[resolution.pk])
    page = login_as(ciso).get(url).content.decode()
    assert 'data-testid="vote-form" data-seat="CISO"' in page
    assert resolution.text in page
    assert 'data-testid="vote-form"' not in login_as(secretary).get(url).content.decode()
    assert login_as(bu_member).get(url).status_code == 404


def test_a_vote_is_confirmed_before_it_is_cast(login_as, resolution, chair, ciso):
    client = login_as(ciso)
    url = reverse("committee:resolution-vote", args=[resolution.pk])
    asked = client.post(url, {"seat": "CISO", "choice": "against"})
    assert asked.status_code == 200
    text = asked.content.decode()
    assert f"Your vote for the CISO seat on {resolution.reference} is final: Against." in text
    assert "cannot be changed or withdrawn" in text
    assert "2 other seats have still to vote" in text
    assert not Ballot.objects.filter(resolution=resolution, cast_at__isnull=False).exists()
    done = client.post(url, {"seat": "CISO", "choice": "against", "confirm": "yes"})
    assert done.status_code == 302
    ballot = Ballot.objects.get(resolution=resolution, seat="CISO")
    assert (ballot.choice, ballot.cast_by) == ("against", ciso)
    again = client.post(url, {"seat": "CISO", "choice": "for", "confirm": "yes"})
    assert again.status_code == 409
    # The chair, last of three? Not yet: the CQO's seat is open. Its confirmation says so.
    chair_asks = login_as(chair).post(url, {"seat": "CEO", "choice": "for"}).content.decode()
    assert "1 other seat has still to vote" in chair_asks


def test_a_conflict_is_confirmed_as_an_abstention_and_a_missing_note_is_asked_for(
    login_as, resolution, ciso
):
    client = login_as(ciso)
    url = reverse("committee:resolution-vote", args=[resolution.pk])
    missing = client.post(url, {"seat": "CISO", "conflict_declared": "on"})
    assert missing.status_code == 400
    assert 'data-field="conflict_note"' in missing.content.decode()
    asked = client.post(
        url, {"seat": "CISO", "conflict_declared": "on", "conflict_note": "Vendor shares"}
    ).content.decode()
    assert "is final: Abstain." in asked
    assert "does not count towards the quorum" in asked
    assert 'name="conflict_note" value="Vendor shares"' in asked


def test_the_last_vote_is_confirmed_as_closing_the_resolution(
    login_as, resolution, chair, ciso, cqo
):
    vote(chair, resolution)
    vote(ciso, resolution)
    asked = login_as(cqo).post(
        reverse("committee:resolution-vote", args=[resolution.pk]), {"seat": "CQO", "choice": "for"}
    )
    assert "the resolution closes now" in asked.content.decode()


def test_the_admin_reads_resolutions_and_changes_nothing(login_as, resolution):
    client = login_as(UserFactory.create(username="root", is_superuser=True, is_staff=True))
    url = f"/admin/committee/writtenresolution/{resolution.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and b"CISO" in page.content  # its ballots, inline
    assert client.get("/admin/committee/writtenresolution/add/").status_code == 403
    client.post(url, {"title": "Rewritten", "status": "carried"})
    assert fresh(resolution).title != "Rewritten" and fresh(resolution).status == S.OPEN


# --- API ------------------------------------------------------------------------------------


def post(client: Any, url: str, data: Any = None, **headers: Any) -> Any:
    return client.post(url, json.dumps(data or {}), content_type="application/json", **headers)


def test_the_api_opens_reads_and_votes(login_as, committee, meeting, chair, ciso, cqo, bu_member):
    body = {
        "committee": committee.slug,
        "title": "Suspend public links",
        "text": "Resolved: public links stay off.",
        "deadline": soon().isoformat(),
    }
    assert post(login_as(ciso), "/api/v1/resolutions/", body).status_code == 403
    bad = post(login_as(chair), "/api/v1/resolutions/", {**body, "deadline": soon(-1).isoformat()})
    assert bad.status_code == 400 and "deadline" in bad.json()
    created = post(login_as(chair), "/api/v1/resolutions/", body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == "open" and [b["seat"] for b in data["ballots"]] == [
        "CEO",
        "CISO",
        "CQO",
    ]
    url = f"/api/v1/resolutions/{data['id']}/"
    assert login_as(bu_member).get(url).status_code == 404
    voted = post(login_as(ciso), url + "vote/", {"choice": "against"}, HTTP_IDEMPOTENCY_KEY="v-1")
    assert voted.status_code == 200, voted.content
    replay = post(login_as(ciso), url + "vote/", {"choice": "against"}, HTTP_IDEMPOTENCY_KEY="v-1")
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    again = post(login_as(ciso), url + "vote/", {"choice": "for"})
    assert again.status_code == 409 and again.json()["code"] == "already_voted"
    # While open, how a seat voted is sealed, except to its own voter.
    seen_by_cqo = {b["seat"]: b for b in login_as(cqo).get(url).json()["ballots"]}
    assert seen_by_cqo["CISO"]["voted"] is True and seen_by_cqo["CISO"]["choice"] is None
    seen_by_ciso = {b["seat"]: b for b in login_as(ciso).get(url).json()["ballots"]}
    assert seen_by_ciso["CISO"]["choice"] == "against"
    assert login_as(cqo).get(url).json()["tally"]["votes_against"] is None
    assert post(login_as(bu_member), url + "vote/", {"choice": "for"}).status_code == 404
    assert post(login_as(chair), url + "vote/", {"choice": "maybe"}).status_code == 400


def test_the_api_list_costs_the_same_queries_for_3_and_30(
    login_as, committee, meeting, chair, ciso
):
    client = login_as(ciso)
    client.get("/api/v1/resolutions/")  # a warm session

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/resolutions/", {"page_size": 100})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    for index in range(3):
        put(chair, committee, title=f"Matter {index}")
    few = count()
    for index in range(27):
        put(chair, committee, title=f"More {index}")
    assert count() == few
