"""A person's language: picked in the site's switcher (which keeps Django's cookie), kept on their
account for the mail they get, editable in the admin, shown by /api/v1/me/."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import User
from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def pick(client: Client, language: str, next_url: str = "/actions/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def test_the_switcher_is_the_sites_own_form():
    assert reverse("set_language") == "/i18n/setlang/"


def test_picking_a_language_keeps_it_for_the_persons_mail(login_as, bu_member):
    client = login_as(bu_member)
    response = pick(client, "ja")
    assert response.status_code == 302 and response["Location"] == "/actions/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja"  # as Django does
    bu_member.refresh_from_db()
    assert bu_member.language == "ja"
    event = AuditEvent.objects.get(verb="account.language_set")
    assert (event.actor_id, event.details) == (bu_member.pk, {"from": "", "to": "ja"})
    # The page that follows reads in the language picked.
    assert client.get("/actions/").headers["Content-Language"] == "ja"

    pick(client, "en")
    bu_member.refresh_from_db()
    assert bu_member.language == "en"


def test_picking_the_same_language_again_writes_nothing(login_as, bu_member):
    client = login_as(bu_member)
    pick(client, "ja")
    pick(client, "ja")
    assert AuditEvent.objects.filter(verb="account.language_set").count() == 1


def test_signed_out_the_switcher_sets_the_cookie_only(client):
    response = pick(client, "ja", next_url="/accounts/login/")
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja"
    assert not AuditEvent.objects.filter(verb="account.language_set").exists()


@pytest.mark.parametrize("language", ["fr", "xx-evil", ""])
def test_a_language_the_site_does_not_offer_is_not_kept(login_as, bu_member, language):
    """Django itself may still set a cookie for a language it knows (fr): the site shows it in
    its default, and the person's mail stays as it was."""
    User.objects.filter(pk=bu_member.pk).update(language="ja")
    response = pick(login_as(bu_member), language)
    assert response.status_code == 302
    bu_member.refresh_from_db()
    assert bu_member.language == "ja"


def test_a_get_changes_nothing(login_as, bu_member):
    client = login_as(bu_member)
    response = client.get(reverse("set_language"), {"language": "ja", "next": "/actions/"})
    assert response.status_code == 302
    bu_member.refresh_from_db()
    assert bu_member.language == ""


def test_the_service_refuses_a_language_the_site_does_not_offer(bu_member):
    with pytest.raises(ValidationError) as refused:
        services.set_language(actor=bu_member, language="fr")
    assert "language" in refused.value.message_dict
    bu_member.refresh_from_db()
    assert bu_member.language == ""


def test_the_service_sets_back_to_the_sites_default(bu_member):
    services.set_language(actor=bu_member, language="ja")
    person = services.set_language(actor=bu_member, language="")
    assert person.language == "" and bu_member.language == ""
    assert User.objects.get(pk=bu_member.pk).language == ""


def test_me_shows_the_language(login_as, bu_member):
    client = login_as(bu_member)
    assert client.get("/api/v1/me/").json()["language"] == ""
    pick(client, "ja")
    assert client.get("/api/v1/me/").json()["language"] == "ja"


def test_an_administrator_sets_a_persons_language_in_the_admin(login_as, bu_member):
    admin_user = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    client = login_as(admin_user)
    url = reverse("admin:accounts_user_change", args=[bu_member.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="language"' in page.content.decode()
    joined = timezone.localtime(bu_member.date_joined)
    saved = client.post(
        url,
        {
            "username": bu_member.username,
            "email": bu_member.email,
            "display_name": bu_member.display_name,
            "language": "ja",
            "is_active": "on",
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    bu_member.refresh_from_db()
    assert bu_member.language == "ja"
