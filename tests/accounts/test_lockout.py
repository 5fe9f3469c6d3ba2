"""Guessing is slowed down: repeated failed sign-ins lock the account out for a while, and an
API client over its rate gets 429 with Retry-After."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.throttling import UserRateThrottle

from audit.models import AuditEvent
from config.client import client_address
from tests.accounts.test_mfa import totp_code, wrong_code
from tests.conftest import enrol_totp
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


BALANCER = "10.0.0.2"


def through_balancer(address: str) -> Client:
    """A browser at `address`, reaching the site through the load balancer, which appends the
    address it saw to X-Forwarded-For (anything left of it is the client's own word)."""
    return Client(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=f"192.0.2.99, {address}")


def signs_in_fully(client: Client, username: str, secret: str) -> bool:
    first = sign_in(client, username, PASSWORD)
    if first.status_code != 302 or "/accounts/2fa/authenticate/" not in first["Location"]:
        return False
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("same_address", [False, True], ids=["other-address", "same-address"])
def test_made_up_names_from_one_address_lock_nobody_else_out(settings, same_address):
    """Behind the balancer every request shares its address: forty failures with made-up names
    must not stop a colleague who types the right password and code, wherever they sit."""
    settings.TRUSTED_PROXY_COUNT = 1
    person = UserFactory.create(username="yumi")
    secret = enrol_totp(person)
    guesser = through_balancer("203.0.113.5")
    for n in range(40):
        sign_in(guesser, f"nobody-{n}", "wrong-password")
    colleague = through_balancer("203.0.113.5" if same_address else "198.51.100.7")
    assert signs_in_fully(colleague, "yumi", secret)
    # The guesser's sweep is on the record against its own address, not the balancer's.
    # Recorded once a window (each failure is its own auth.login_failed already).
    [throttled] = AuditEvent.objects.filter(verb="auth.address_throttled")
    assert throttled.details["ip"] == "203.0.113.5"
    assert throttled.details["failures"] == settings.LOGIN_FAILED_ADDRESS_LIMIT + 1
    failed = AuditEvent.objects.filter(verb="auth.login_failed")
    assert {e.details["ip"] for e in failed} == {"203.0.113.5"}


def test_past_the_address_limit_wrong_guesses_are_refused_as_too_many(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    guesser = through_balancer("203.0.113.5")
    for n in range(settings.LOGIN_FAILED_ADDRESS_LIMIT):
        answer = sign_in(guesser, f"nobody-{n}", "wrong-password").content.decode()
        assert "Too many failed login attempts" not in answer
    answer = sign_in(guesser, "nobody-else", "wrong-password").content.decode()
    assert "Too many failed login attempts" in answer
    assert "_auth_user_id" not in guesser.session


def test_the_account_limit_still_locks_the_account_whatever_the_address(settings):
    """Five wrong passwords for one account, each from another address: the account is locked
    even for the right password and code (the per-account limit is what stops guessing)."""
    settings.TRUSTED_PROXY_COUNT = 1
    person = UserFactory.create(username="kenji")
    secret = enrol_totp(person)
    for n in range(5):
        sign_in(through_balancer(f"203.0.113.{n + 1}"), "kenji", "wrong-password")
    elsewhere = through_balancer("198.51.100.7")
    assert not signs_in_fully(elsewhere, "kenji", secret)
    [locked] = AuditEvent.objects.filter(verb="auth.locked_out")
    assert locked.details["username"] == "kenji"
    assert locked.details["step"] == "password"
    assert locked.details["ip"] == "198.51.100.7"


def test_a_code_refused_while_locked_out_is_on_the_record(client):
    person = UserFactory.create(username="kenji")
    secret = enrol_totp(person)
    assert sign_in(client, "kenji", PASSWORD)["Location"].startswith("/accounts/2fa/authenticate/")
    for _ in range(5):
        client.post("/accounts/2fa/authenticate/", {"code": wrong_code(secret)})
    refused = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert "_auth_user_id" not in client.session
    assert refused.status_code in {200, 400, 429}
    [locked] = AuditEvent.objects.filter(verb="auth.locked_out")
    assert locked.actor == person
    assert locked.details["step"] == "code"


@pytest.mark.parametrize(
    ("proxies", "header", "meta", "expected"),
    [
        (0, None, {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}, "10.0.0.2"),  # no proxy trusted
        (1, None, {"HTTP_X_FORWARDED_FOR": "1.1.1.1, 203.0.113.5"}, "203.0.113.5"),
        (2, None, {"HTTP_X_FORWARDED_FOR": "1.1.1.1, 203.0.113.5, 10.0.0.9"}, "203.0.113.5"),
        (2, None, {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}, "10.0.0.2"),  # too short: the peer
        (1, None, {"HTTP_X_FORWARDED_FOR": "not-an-address"}, "10.0.0.2"),
        (1, None, {"HTTP_X_FORWARDED_FOR": "[2001:db8::1]:443"}, "2001:db8::1"),
        (1, None, {}, "10.0.0.2"),
        (0, "X-Real-IP", {"HTTP_X_REAL_IP": "198.51.100.7"}, "198.51.100.7"),
        (0, "X-Real-IP", {"HTTP_X_REAL_IP": "nonsense"}, "10.0.0.2"),
        (0, "X-Real-IP", {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}, "10.0.0.2"),
    ],
)
def test_the_client_address_is_only_what_the_deployment_vouches_for(
    rf, settings, proxies, header, meta, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    settings.TRUSTED_CLIENT_IP_HEADER = header
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", **meta)
    assert client_address(request) == expected


def test_a_forwarded_chain_shorter_than_declared_signs_in_instead_of_failing(settings):
    """allauth's own reading of X-Forwarded-For raises (a 500) when the chain is shorter than
    the trusted count: a client could send one hop and take the sign-in page down."""
    settings.TRUSTED_PROXY_COUNT = 3
    UserFactory.create(username="kenji")
    short = Client(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert sign_in(short, "kenji", PASSWORD).status_code == 302


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
    [reset] = AuditEvent.objects.filter(verb="auth.password_reset")
    assert reset.actor == person and reset.target_id == str(person.pk)
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
