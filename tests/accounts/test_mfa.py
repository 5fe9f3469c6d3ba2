"""MFA for every interactive user: nothing past the login page until a second factor is proved."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.test import Client

from audit.models import AuditEvent
from tests.conftest import enrol_totp
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def totp_code(secret: str, offset: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def wrong_code(secret: str) -> str:
    valid = {totp_code(secret, k) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def sign_in_with_password(client: Client, username: str):
    return client.post("/accounts/login/", {"login": username, "password": PASSWORD})


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def person():
    return UserFactory.create(username="kenji", is_staff=True, is_superuser=True)


def test_password_only_reaches_nothing_until_totp_is_enrolled(client, person):
    response = sign_in_with_password(client, "kenji")
    assert response.status_code == 302
    for path in ["/", "/admin/", "/admin/accounts/user/"]:
        page = client.get(path)
        assert page.status_code == 302, path
        assert page["Location"].startswith("/accounts/2fa/totp/activate/"), path
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert api.json()["code"] == "mfa_required"


def test_enrolling_totp_opens_the_product(client, person):
    sign_in_with_password(client, "kenji")
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = client.session[SECRET_SESSION_KEY]

    refused = client.post("/accounts/2fa/totp/activate/", {"code": wrong_code(secret)})
    assert refused.status_code == 200  # the form again, with an error
    assert not Authenticator.objects.filter(user=person).exists()
    assert client.get("/")["Location"].startswith("/accounts/2fa/totp/activate/")

    accepted = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert accepted.status_code == 302
    assert Authenticator.objects.filter(user=person, type=Authenticator.Type.TOTP).exists()
    assert client.get("/").status_code == 200
    assert client.get("/admin/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_enrolment_is_audited(client, person, django_capture_on_commit_callbacks):
    sign_in_with_password(client, "kenji")
    client.get("/accounts/2fa/totp/activate/")
    secret = client.session[SECRET_SESSION_KEY]
    with django_capture_on_commit_callbacks(execute=True):  # allauth signals after commit
        client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    enrolled = AuditEvent.objects.filter(verb="mfa.enrolled", actor=person)
    assert sorted(e.details["type"] for e in enrolled) == ["recovery_codes", "totp"]


def test_enrolling_in_one_session_does_not_open_another(person):
    """Someone who knows the password waits at enrolment while the owner enrols elsewhere."""
    intruder, owner = Client(), Client()
    sign_in_with_password(intruder, "kenji")
    assert intruder.get("/")["Location"].startswith("/accounts/2fa/totp/activate/")

    sign_in_with_password(owner, "kenji")
    owner.get("/accounts/2fa/totp/activate/")
    secret = owner.session[SECRET_SESSION_KEY]
    assert (
        owner.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)}).status_code == 302
    )
    assert owner.get("/").status_code == 200

    response = intruder.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not is_signed_in(intruder)  # the half-signed-in session was ended
    assert intruder.get("/admin/").status_code == 302
    assert intruder.get("/api/v1/me/").status_code == 401


def test_enrolled_user_needs_a_valid_code(client, person):
    secret = enrol_totp(person)
    response = sign_in_with_password(client, "kenji")
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert not is_signed_in(client)
    assert client.get("/").status_code == 302
    assert client.get("/admin/").status_code == 302
    assert client.get("/api/v1/me/").status_code == 401  # half-way through sign-in is not signed in

    wrong = client.post("/accounts/2fa/authenticate/", {"code": wrong_code(secret)})
    assert wrong.status_code == 200
    assert not is_signed_in(client)
    assert AuditEvent.objects.filter(verb="mfa.failed", actor=person).count() == 1

    right = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert right.status_code == 302
    assert is_signed_in(client)
    assert client.get("/").status_code == 200
    assert client.get("/admin/").status_code == 200
    verbs = list(
        AuditEvent.objects.filter(actor=person).order_by("pk").values_list("verb", flat=True)
    )
    assert verbs == ["mfa.failed", "mfa.verified", "auth.login"]


def test_a_totp_code_cannot_be_replayed(client, person):
    secret = enrol_totp(person)
    code = totp_code(secret)
    sign_in_with_password(client, "kenji")
    assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
    client.post("/accounts/logout/")
    other = Client()
    sign_in_with_password(other, "kenji")
    assert other.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 200
    assert not is_signed_in(other)


def test_recovery_codes_work_once(client, person):
    enrol_totp(person)
    codes = RecoveryCodes.activate(person).get_unused_codes()

    sign_in_with_password(client, "kenji")
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert not is_signed_in(client)

    sign_in_with_password(client, "kenji")
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 200
    assert not is_signed_in(client)
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[1]}).status_code == 302
    assert client.get("/").status_code == 200


def test_a_session_without_the_second_factor_is_ended(client, person):
    """A sign-in that skipped the second factor (any password-only door) does not count."""
    enrol_totp(person)
    client.force_login(person)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not is_signed_in(client)


def test_the_admin_login_form_is_not_a_way_around(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_self_signup_is_closed(client):
    response = client.post(
        "/accounts/signup/", {"username": "intruder", "password1": "x" * 20, "password2": "x" * 20}
    )
    assert response.status_code == 200
    assert b"Sign Up Closed" in response.content or b"closed" in response.content.lower()
    assert not UserFactory._meta.model.objects.filter(username="intruder").exists()


def test_logins_and_failed_logins_are_audited(client, person):
    assert sign_in_with_password(client, "kenji").status_code == 302
    Client().post("/accounts/login/", {"login": "kenji", "password": "wrong password"})
    assert AuditEvent.objects.filter(verb="auth.login", actor=person).count() == 1
    failed = AuditEvent.objects.get(verb="auth.login_failed")
    assert failed.details["username"] == "kenji"
    assert "password" not in failed.details


def test_changing_a_factor_later_needs_reauthentication(client, person):
    import time_machine
    from django.utils import timezone

    secret = enrol_totp(person)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in_with_password(client, "kenji")
        client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
        # Straight after signing in, the sign-in itself is recent enough.
        assert client.get("/accounts/2fa/totp/deactivate/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        response = client.get("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
