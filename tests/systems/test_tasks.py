"""The unit's mail about a suspension (and its lifting) is written in each reader's language and
links to the system's page by full address."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import User
from systems import services
from systems.tasks import notify_suspension
from tests.mails import SITE_URL, formatted, links, opens, said

pytestmark = pytest.mark.django_db

TAKE_IT_DOWN = (
    "Take the system out of service now. The order stands until it is lifted; the Risk "
    "Compliance Committee will ratify or overturn it at its next meeting."
)


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


def test_the_suspension_mail_links_the_system_in_english(
    login_as, ciso, system, bu_head, bu_member
):
    order = services.suspend_system(actor=ciso, system=system, reason="Breach & exfiltration")
    assert notify_suspension(order.pk) == 2
    [message] = mail.outbox
    assert sorted(message.to) == sorted([bu_head.email, bu_member.email])
    assert message.subject == f"[RCC] {system.code} suspended"
    body = message.body
    when = formatted("en", order.issued_at, "DATETIME_FORMAT")
    assert f"with immediate effect at {when} JST." in body  # on the site's clock, named
    assert "Reason: Breach & exfiltration" in body.splitlines()  # plain text: nothing escaped
    assert "Take the system out of service now." in body
    assert links(body) == [f"{SITE_URL}/systems/{system.pk}/"]
    opens(login_as(bu_member), links(body)[0], "systems:system", system.pk)


def test_each_reader_gets_the_suspension_in_their_own_language(
    login_as, ciso, system, bu_head, bu_member
):
    User.objects.filter(pk=bu_head.pk).update(language="ja")
    order = services.suspend_system(actor=ciso, system=system, reason="Breach")
    assert notify_suspension(order.pk) == 2
    by_reader = {tuple(m.to): m for m in mail.outbox}
    assert sorted(by_reader) == [(bu_head.email,), (bu_member.email,)]
    english, japanese = by_reader[(bu_member.email,)], by_reader[(bu_head.email,)]
    assert english.subject == f"[RCC] {system.code} suspended"
    assert japanese.subject == said("ja", "[RCC] %(system)s suspended", system=system.code)
    body = japanese.body
    assert said("ja", "Reason: %(reason)s", reason="Breach") in body.splitlines()
    assert said("ja", TAKE_IT_DOWN) in body
    assert formatted("ja", order.issued_at, "DATETIME_FORMAT") in body
    assert "Take the system" not in body
    for message in (english, japanese):
        assert links(message.body) == [f"{SITE_URL}/systems/{system.pk}/"]
    opens(login_as(bu_head), links(body)[0], "systems:system", system.pk)


def test_the_lifting_mail_is_written_in_the_readers_language(ciso, system, bu_head, bu_member):
    User.objects.filter(pk__in=[bu_head.pk, bu_member.pk]).update(language="ja")
    order = services.suspend_system(actor=ciso, system=system, reason="Breach")
    order = services.lift_suspension(actor=ciso, order=order, reason="Keys rotated")
    assert notify_suspension(order.pk, "lifted") == 2
    [message] = mail.outbox  # one language: one mail
    assert message.subject == said("ja", "[RCC] %(system)s reinstated", system=system.code)
    assert said("ja", "The system may return to operation.") in message.body
    assert said("ja", "Reason: %(reason)s", reason="Keys rotated") in message.body.splitlines()
    assert links(message.body) == [f"{SITE_URL}/systems/{system.pk}/"]


def test_nobody_with_an_address_means_no_mail(ciso, system, bu_head, bu_member):
    User.objects.filter(pk__in=[bu_head.pk, bu_member.pk]).update(email="")
    order = services.suspend_system(actor=ciso, system=system, reason="Breach")
    assert notify_suspension(order.pk) == 0
    assert mail.outbox == []
