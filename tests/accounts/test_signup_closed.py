"""Sign-up is closed, and nothing invites anyone to it: not the sign-in page (in English or
Japanese), not /accounts/signup/, not a password-reset mail for an unknown address."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tests.factories import UserFactory

# allauth's own invitation, as its catalogues word it in each language.
ALLAUTH_INVITATION = (
    "If you have not created an account yet, then please %(link)ssign up%(end_link)s first."
)


def sign_up_words(language: str) -> list[str]:
    """The words that would invite a reader to sign up, in the language of the page."""
    with translation.override(language):
        invitation = gettext(ALLAUTH_INVITATION) % {"link": "\n", "end_link": "\n"}
        words = [gettext("Sign Up"), "sign up", "sign-up", "signup"]
    words += [part.strip() for part in invitation.split("\n") if part.strip()]
    return words


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_sign_in_page_invites_nobody_to_sign_up(client, language):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'lang="{language}"' in html  # the page is in the language asked for
    assert 'name="password"' in html  # and still signs people in
    assert reverse("account_signup") not in html
    text = visible_text(html).lower()
    for words in sign_up_words(language):
        assert words.lower() not in text, words


@pytest.mark.django_db
def test_the_sign_in_page_says_who_makes_accounts(client):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Accounts are created by administrators." in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_signup_address_offers_no_form(client, language):
    response = client.get(reverse("account_signup"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<form" not in html.split("<main", 1)[1]  # the language switcher is in the top bar
    assert 'name="password1"' not in html
    with translation.override(language):
        assert gettext("Sign Up Closed") in html


@pytest.mark.django_db
def test_posting_to_the_signup_address_makes_no_account(client):
    client.post(
        reverse("account_signup"),
        {"username": "intruder", "password1": "x" * 20, "password2": "x" * 20},
    )
    assert not UserFactory._meta.model.objects.filter(username="intruder").exists()


@pytest.mark.django_db
def test_a_reset_for_an_unknown_address_mails_no_invitation(client):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    assert response.status_code == 302  # the same answer as for a known address
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_reset_for_a_known_address_still_mails_the_link(client):
    UserFactory(username="kenji", email="kenji@example.com")
    response = client.post(reverse("account_reset_password"), {"email": "kenji@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    assert reverse("account_signup") not in mail.outbox[0].body
