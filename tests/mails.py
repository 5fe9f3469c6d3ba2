"""Helpers for mail tests: what the catalogue says in a language, and the links a mail holds."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from django.urls import resolve
from django.utils import formats, timezone, translation

SITE_URL = "https://rcc.example.test"  # the tests' SITE_URL: links must be under it, not a guess


def said(language: str, msgid: str, **values: object) -> str:
    """What a mail says for `msgid` in `language`: the catalogue's text (there must be one:
    an untranslated line would pass for Japanese in an English mail), with `values` put in."""
    with translation.override(language):
        text = translation.gettext(msgid)
    if language != settings.LANGUAGE_CODE:
        assert text != msgid, f"no {language} text for {msgid!r} in the catalogue"
    return text % values if values else text


def formatted(language: str, value: dt.date, fmt: str) -> str:
    """A date as a mail in `language` shows it (fmt: a Django format name such as DATE_FORMAT);
    a moment on the site's clock, as templates show it."""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    with translation.override(language):
        return formats.date_format(value, fmt)


def links(body: object) -> list[str]:
    """Every full address a plain-text mail holds, in order."""
    return re.findall(r"https?://\S+", str(body))


def opens(client: Client, link: str, view: str, pk: int) -> None:
    """A mailed link is the record's page under SITE_URL, and its reader can open it."""
    assert link.startswith(f"{SITE_URL}/"), link
    path = urlsplit(link).path
    match = resolve(path)
    assert (match.view_name, match.kwargs.get("pk")) == (view, pk), link
    response = client.get(path)
    assert response.status_code == 200, (link, response.status_code)
