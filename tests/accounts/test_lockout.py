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


def test_a_refused_act_is_recorded_in_the_audit_trail(login_as, bu_member, unit):
    from systems.models import System
    from tests.systems.conftest import register

    system = register(unit, "cert-issuance")
    client = login_as(bu_member)
    response = client.post(
        f"/api/v1/systems/{system.pk}/suspend/",
        {"reason": "I want it off"},
        content_type="application/json",
    )
    assert response.status_code == 403
    event = AuditEvent.objects.get(verb="authz.refused")
    assert event.actor == bu_member
    assert event.details["path"] == f"/api/v1/systems/{system.pk}/suspend/"
    assert "CISO" in event.details["reason"]
    page = client.post(f"/systems/{system.pk}/suspend/", {"reason": "Again", "confirm": "yes"})
    assert page.status_code == 403
    assert AuditEvent.objects.filter(verb="authz.refused").count() == 2
    assert System.objects.get(pk=system.pk).status == System.Status.OPERATIONAL


def test_a_password_reset_does_not_get_past_the_second_factor(client, mailoutbox):
    import re

    from tests.conftest import enrol_totp

    person = UserFactory.create(username="kenji", email="kenji@example.com")
    enrol_totp(person)
    client.post("/accounts/password/reset/", {"email": "kenji@example.com"})
    [message] = mailoutbox
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", message.body)
    assert link, message.body
    form = client.get(link.group(1), follow=True)
    new = "Correct-Horse-Battery-Staple-2026"
    done = client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert done.status_code == 302
    assert "_auth_user_id" not in client.session  # the reset does not sign anyone in
    after = sign_in(client, "kenji", new)
    assert after.status_code == 302 and "/accounts/2fa/authenticate/" in after["Location"]
    assert client.get("/", follow=False).status_code == 302  # still no page without the code


def test_with_the_cache_away_sign_in_goes_on_and_the_api_answers(client, settings, login_as):
    """Redis (the shared cache) away: allauth's rate-limit lock and the API's throttle find an
    empty cache that takes every write, so a person still signs in and a request still runs."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free again when the block ends: nothing listens
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    user = UserFactory.create(username="kenji")
    response = sign_in(client, "kenji", PASSWORD)
    assert response.status_code == 302  # signed in (on to enrol an authenticator), not a 429
    assert client.session["_auth_user_id"] == str(user.pk)
    me = login_as(user).get("/api/v1/me/", HTTP_ACCEPT="application/json")
    assert me.status_code == 200
