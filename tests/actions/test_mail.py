"""The mails about actions (the chase's digest, a submission for verification) are written in
each reader's language when they are sent, and link to each action's page by full address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Office, User
from actions import chasing, services
from actions.models import Action, Notification
from actions.tasks import notify_submitted
from tests.actions.conftest import task
from tests.factories import DelegationFactory, UserFactory
from tests.mails import SITE_URL, formatted, links, opens, said

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


def reads(person: User, language: str) -> None:
    User.objects.filter(pk=person.pk).update(language=language)


def overdue_for(unit, ciso, person, days: int = 2, **fields) -> Action:
    action = task(unit, ciso, assignee=person, **fields)
    Action.objects.filter(pk=action.pk).update(due_on=timezone.localdate() - timedelta(days))
    return Action.objects.get(pk=action.pk)


def submitted(unit, ciso, bu_member) -> Action:
    action = task(unit, ciso, title="Rotate the sharing tool's keys & secrets")
    services.transition_action(actor=bu_member, action=action, act="start")
    services.transition_action(actor=bu_member, action=action, act="submit")
    return Action.objects.get(pk=action.pk)


# --- the chase's digest -----------------------------------------------------------------------


def test_the_digest_links_each_action_in_english(login_as, unit, ciso, bu_member):
    first = overdue_for(unit, ciso, bu_member, title="Patch & restart the gateway")
    second = overdue_for(unit, ciso, bu_member, days=3)
    chasing.chase_actions()
    [message] = [m for m in mail.outbox if m.to == [bu_member.email]]
    assert message.subject == "[RCC] 2 actions need your attention"
    body = message.body
    assert body.startswith(f"{bu_member}, these actions need your attention:")
    due = formatted("en", first.due_on, "DATE_FORMAT")
    assert f"- {first.reference} Patch & restart the gateway (PUBSEC, due {due}): overdue" in body
    # One link per action, under the item it belongs to, oldest due first.
    assert links(body) == [
        f"{SITE_URL}/actions/{second.pk}/",
        f"{SITE_URL}/actions/{first.pk}/",
    ]
    client = login_as(bu_member)
    opens(client, links(body)[0], "actions:action", second.pk)
    opens(client, links(body)[1], "actions:action", first.pk)


def test_the_digest_is_written_in_the_readers_language(login_as, unit, ciso, bu_member):
    """What the in-app list stores is English; the mail is composed from the stage, in Japanese."""
    reads(bu_member, "ja")
    action = overdue_for(unit, ciso, bu_member)
    chasing.chase_actions()
    assert Notification.objects.get(recipient=bu_member).message.endswith("): overdue")
    [message] = [m for m in mail.outbox if m.to == [bu_member.email]]
    with translation.override("ja"):
        subject = translation.ngettext(
            "[RCC] %(count)d action needs your attention",
            "[RCC] %(count)d actions need your attention",
            1,
        ) % {"count": 1}
    assert subject != "[RCC] 1 action needs your attention"
    assert message.subject == subject
    body = message.body
    greeting = said("ja", "%(recipient)s, these actions need your attention:", recipient=bu_member)
    assert body.startswith(greeting)
    line = said(
        "ja",
        "%(reference)s %(title)s (%(unit)s, due %(due)s): %(stage)s",
        reference=action.reference,
        title=action.title,
        unit="PUBSEC",
        due=formatted("ja", action.due_on, "DATE_FORMAT"),
        stage=said("ja", "overdue"),
    )
    assert f"- {line}" in body.splitlines()
    assert "年" in formatted("ja", action.due_on, "DATE_FORMAT")  # Japanese dates, not ISO
    assert said("ja", chasing.STAGE_TEXT["overdue"]) in body and "overdue" not in body
    assert links(body) == [f"{SITE_URL}/actions/{action.pk}/"]
    opens(login_as(bu_member), links(body)[0], "actions:action", action.pk)


def test_each_reader_gets_the_digest_in_their_own_language(unit, ciso, bu_member, bu_head):
    """The same actions, chased to the member and escalated to the head: two languages."""
    reads(bu_head, "ja")
    overdue_for(unit, ciso, bu_member, days=8)  # overdue (member) and unit_head (head)
    chasing.chase_actions()
    mine = {m.to[0]: m.body for m in mail.outbox}
    assert "overdue" in mine[bu_member.email]
    assert said("ja", "overdue a week: escalated to the unit head") in mine[bu_head.email]


def test_mailing_digests_costs_the_same_queries_for_few_items_and_many(unit, ciso, bu_member):
    def cost(count: int) -> int:
        for _ in range(count):
            overdue_for(unit, ciso, bu_member)
        chasing.chase_stages(today=timezone.localdate())
        mail.outbox.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert chasing.send_digests() == 1
        [message] = mail.outbox
        assert len(links(message.body)) == count  # this run's items, each with its link
        return len(ctx.captured_queries)

    assert cost(2) == cost(20)


# --- a submission for verification -------------------------------------------------------------


def test_the_submission_mail_links_the_action_in_english(login_as, unit, ciso, bu_member):
    action = submitted(unit, ciso, bu_member)
    assert notify_submitted(action.pk) == 1
    [message] = mail.outbox
    assert message.subject == f"[RCC] {action.reference} submitted for verification by PUBSEC"
    body = message.body
    assert f"{action.reference}: Rotate the sharing tool's keys & secrets" in body.splitlines()
    assert f"Due: {formatted('en', action.due_on, 'DATE_FORMAT')}" in body.splitlines()
    assert "Verify it, or return it with what is missing, on the action's page:" in body
    assert links(body) == [f"{SITE_URL}/actions/{action.pk}/"]
    opens(login_as(ciso), links(body)[0], "actions:action", action.pk)


def test_the_submission_mail_is_written_in_the_readers_language(login_as, unit, ciso, bu_member):
    reads(ciso, "ja")
    action = submitted(unit, ciso, bu_member)
    assert notify_submitted(action.pk) == 1
    [message] = mail.outbox
    assert message.subject == said(
        "ja",
        "[RCC] %(reference)s submitted for verification by %(unit)s",
        reference=action.reference,
        unit="PUBSEC",
    )
    body = message.body
    due = formatted("ja", action.due_on, "DATE_FORMAT")
    assert said("ja", "Due: %(due)s", due=due) in body.splitlines()
    assert said("ja", "Verify it, or return it with what is missing, on the action's page:") in body
    assert "Verify it" not in body
    assert links(body) == [f"{SITE_URL}/actions/{action.pk}/"]
    opens(login_as(ciso), links(body)[0], "actions:action", action.pk)


def test_readers_of_two_languages_get_one_mail_each(unit, ciso, bu_member):
    acting = UserFactory.create(username="acting-ciso", language="ja")
    DelegationFactory.create(office=Office.objects.get(code="CISO"), delegate=acting)
    action = submitted(unit, ciso, bu_member)
    assert notify_submitted(action.pk) == 2
    by_reader = {tuple(m.to): m for m in mail.outbox}
    assert sorted(by_reader) == [(acting.email,), (ciso.email,)]
    assert by_reader[(ciso.email,)].subject.endswith("submitted for verification by PUBSEC")
    assert by_reader[(acting.email,)].subject == said(
        "ja",
        "[RCC] %(reference)s submitted for verification by %(unit)s",
        reference=action.reference,
        unit="PUBSEC",
    )
    for message in mail.outbox:
        assert links(message.body) == [f"{SITE_URL}/actions/{action.pk}/"]
