"""Who a person is, as pages show it: roles by name in the reader's language, never their
slugs (the API keeps the slugs: machines read it)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def roles_shown(response) -> str:
    found = re.search(r'<span data-testid="roles"[^>]*>([^<]*)</span>', response.content.decode())
    assert found, "the dashboard names no roles"
    return found.group(1)


def test_the_dashboard_names_a_persons_roles(login_as, chair):
    assert roles_shown(login_as(chair).get("/")) == "Committee chair, CxO (committee member)"


def test_the_dashboard_names_roles_in_the_readers_language(login_as, secretary):
    client = login_as(secretary)
    client.cookies["django_language"] = "ja"
    assert roles_shown(client.get("/")) == "委員会事務局"


def test_the_api_keeps_the_role_slugs(login_as, chair):
    me = login_as(chair).get("/api/v1/me/").json()
    assert me["roles"] == ["chair", "cxo"]
    assert "role_labels" not in me
