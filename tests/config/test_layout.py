"""The layout's links: drawn once per language and per what the reader may open, yet each reader
still sees exactly their own sections, in their own language."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _links(client: Client, url: str = "/") -> tuple[list[str], bool]:
    html = client.get(url).content.decode()
    nav = html[html.index('<ul class="navbar-nav') : html.index("</ul>")]
    return re.findall(r'href="([^"]+)"', nav), 'data-testid="waiting-badge"' in nav


def test_each_reader_sees_their_own_sections(ciso: User, auditor: User, bu_member: User) -> None:
    audit, admin = reverse("audit:events"), reverse("admin:index")
    bu_member.is_staff = True
    bu_member.save(update_fields=["is_staff"])
    seen = {}
    for who in (bu_member, ciso, auditor, bu_member):  # the member again, after the others
        seen[who.username] = _links(sign_in(Client(), who))[0]
    assert audit in seen[ciso.username] and audit in seen[auditor.username]
    assert audit not in seen[bu_member.username]
    assert admin in seen[bu_member.username] and admin not in seen[ciso.username]
    assert reverse("vulnerabilities:exposure") in seen[ciso.username]


def test_the_waiting_badge_is_left_off_the_account_pages(ciso: User) -> None:
    client = sign_in(Client(), ciso)
    assert _links(client)[1]
    assert not _links(client, reverse("mfa_index"))[1]
    assert _links(client, reverse("actions:actions"))[1]


def test_the_links_are_in_the_readers_language(ciso: User) -> None:
    client = sign_in(Client(), ciso)
    english = client.get("/").content.decode()
    client.cookies.load({"django_language": "ja"})
    japanese = client.get("/").content.decode()
    assert ">Audit trail</a>" in english and ">Audit trail</a>" not in japanese
    assert ">監査証跡</a>" in japanese
