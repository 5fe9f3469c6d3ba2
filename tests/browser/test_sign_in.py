"""Signing in as a person would: password, then enrolling an authenticator, then the dashboard."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from tests.conftest import enrol_totp
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def code_for(secret: str) -> str:
    """The current code, never one about to expire: the server accepts only the current
    30-second window, and a code typed in its last seconds arrives in the next one."""
    left = 30 - time.time() % 30
    if left < 6:
        time.sleep(left + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")  # the navbar has a sign-out button too


def test_first_sign_in_enrols_totp_then_reaches_the_dashboard(page):
    UserFactory.create(username="kenji", display_name="Kenji Sato", roles=["cxo"])
    sign_in(page, "kenji")
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "enrol-totp.png"), full_page=True)

    # The page shows the secret for people who cannot scan the QR code.
    secret = page.locator("input#authenticator_secret").input_value()
    page.fill("input[name=code]", code_for(secret))
    page.click("main button[type=submit]")  # the navbar has a sign-out button too
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))

    page.goto("/")
    assert page.get_by_test_id("signed-in-as").inner_text() == "Kenji Sato"
    # The role by its name, never its slug.
    assert page.get_by_test_id("roles").inner_text() == "CxO (committee member)"
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)


def test_enrolled_person_is_asked_for_a_code_and_a_wrong_one_is_refused(page):
    person = UserFactory.create(username="yumi", display_name="Yumi Suzuki")
    secret = enrol_totp(person)
    sign_in(page, "yumi")
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))

    page.goto("/")  # no way round the second step
    assert "/accounts/" in page.url
    assert page.get_by_test_id("signed-in-as").count() == 0

    page.goto("/accounts/2fa/authenticate/")
    valid = {format_hotp_value(hotp_value(secret, int(time.time()) // 30 + k)) for k in (-1, 0, 1)}
    page.fill("input[name=code]", next(c for c in ("000000", "123456", "999999") if c not in valid))
    page.click("main button[type=submit]")  # the navbar has a sign-out button too
    assert page.locator(".errorlist").count() >= 1 or "Incorrect" in page.content()
    assert "/accounts/2fa/authenticate/" in page.url

    page.fill("input[name=code]", code_for(secret))
    page.click("main button[type=submit]")  # the navbar has a sign-out button too
    page.wait_for_url(re.compile(r"://[^/]+/$"))  # the dashboard, not the 2FA page before it
    assert page.get_by_test_id("signed-in-as").inner_text() == "Yumi Suzuki"
