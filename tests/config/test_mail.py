"""Mail is composed in its reader's language and links by full address under SITE_URL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from config import env, mail


def reader(email: str, language: str = "") -> SimpleNamespace:
    return SimpleNamespace(email=email, language=language)


@pytest.mark.parametrize(
    ("chosen", "reads"),
    [("", "en"), ("ja", "ja"), ("en", "en"), ("fr", "en"), (None, "en")],
)
def test_a_reader_reads_their_pick_or_the_sites_language(chosen, reads):
    """A language the site does not offer (one dropped since it was picked) is the site's."""
    assert mail.language_of(reader("a@example.test", chosen)) == reads


def test_a_reader_with_no_language_at_all_reads_the_sites(settings):
    settings.LANGUAGE_CODE = "ja"
    assert mail.language_of(SimpleNamespace(email="a@example.test")) == "ja"


def test_links_are_full_addresses_under_the_site_url(settings):
    settings.SITE_URL = "https://rcc.example.test"
    assert mail.link("actions:action", 42) == "https://rcc.example.test/actions/42/"
    assert mail.link("dashboard") == "https://rcc.example.test/"


def test_readers_are_grouped_by_language_each_address_once():
    readers = [
        reader("b@example.test", "ja"),
        reader("a@example.test"),
        reader("", "ja"),  # no address: nobody to mail
        reader("c@example.test", "en"),
        reader("a@example.test", "ja"),  # the same address again: its first language stands
    ]
    assert mail.by_language(readers) == {
        "en": ["a@example.test", "c@example.test"],
        "ja": ["b@example.test"],
    }
    assert mail.by_language([]) == {}


def test_compose_writes_subject_and_body_in_the_language_then_restores_the_callers():
    with translation.override("en"):
        subject, body = mail.compose(
            "committee/mail/cancellation.txt",
            {
                "recipient": SimpleNamespace(display_name="Ada", username="ada"),
                "title": "RCC",
                "meeting": SimpleNamespace(cancel_reason="No quorum"),
                "when": None,
                "zone": "Asia/Tokyo",
                "link": "https://rcc.example.test/meetings/1/",
            },
            language="ja",
            subject=lambda: translation.get_language() + "\nsubject",
        )
        assert translation.get_language() == "en"
    assert subject == "ja subject"  # translated where it is composed, and on one line
    assert "https://rcc.example.test/meetings/1/" in body


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("https://rcc.example.com", "https://rcc.example.com"),
        ("https://rcc.example.com/", "https://rcc.example.com"),
        ("http://10.0.0.5:8000", "http://10.0.0.5:8000"),
    ],
)
def test_the_site_url_is_kept_without_its_trailing_slash(monkeypatch, value, kept):
    monkeypatch.setenv("SITE_URL", value)
    assert env.site_url("SITE_URL", "http://127.0.0.1:8000") == kept


def test_an_unset_site_url_is_the_quick_starts_address(monkeypatch):
    monkeypatch.delenv("SITE_URL", raising=False)
    assert env.site_url("SITE_URL", "http://127.0.0.1:8000") == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    "value",
    [
        "rcc.example.com",  # no scheme
        "ftp://rcc.example.com",
        "https://",  # no host
        "https://rcc.example.com/rcc",  # a path: FORCE_SCRIPT_NAME's job, or links get it twice
        "https://rcc.example.com/?a=1",
        "https://user:secret@rcc.example.com",
        "https://rcc.example.com:port",
    ],
)
def test_a_malformed_site_url_stops_startup_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("SITE_URL", value)
    with pytest.raises(ImproperlyConfigured, match="SITE_URL"):
        env.site_url("SITE_URL", "http://127.0.0.1:8000")
