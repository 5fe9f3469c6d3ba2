"""Guessing is slowed down: repeated failed sign-ins lock the account out for a while, and an
API client over its rate gets 429 with Retry-After."""

from __future__ import annotations

import pytest
from rest_framework.throttling import UserRateThrottle

from audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, username: str, password: str):
    return client.post("/accounts/login/", {"login": username, "password": password})


def test_five_failed_sign_ins_lock_the_account_even_for_the_right_password(client):
    UserFactory.create(username="kenji")
    for _ in range(5):
        assert sign_in(client, "kenji", "wrong-password").status_code in {200, 400}
    refused = sign_in(client, "kenji", PASSWORD)
    assert "_auth_user_id" not in client.session
    assert refused.status_code in {200, 400, 429}
    assert "Too many failed login attempts" in refused.content.decode()
    assert AuditEvent.objects.filter(verb="auth.login_failed").count() >= 5


def test_another_account_is_not_locked_by_someone_elses_failures(client):
    UserFactory.create(username="kenji")
    UserFactory.create(username="yumi")
    for _ in range(5):
        sign_in(client, "kenji", "wrong-password")
    response = sign_in(client, "yumi", PASSWORD)
    assert response.status_code == 302  # on to the second factor


def test_an_api_client_over_its_rate_gets_429(login_as, bu_member, monkeypatch):
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "3/minute")
    client = login_as(bu_member)
    codes = [
        client.get("/api/v1/me/", HTTP_ACCEPT="application/json").status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/api/v1/me/", HTTP_ACCEPT="application/json")
    assert int(limited.headers["Retry-After"]) > 0
