"""allauth adapter: no self sign-up, sign-in limits per account and per real client address,
lockouts on the record, and a fresh sign-in counts as a recent reauthentication."""

from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.internal.stagekit import get_pending_stage
from allauth.core import context
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.services import record_authentication_event
from config.client import client_address

# allauth's error codes for "this account is locked out for a while" (password and code).
LOCKOUT_CODES = {"too_many_login_attempts", "rate_limited"}


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False  # accounts are provisioned by administrators

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's own reading raises ImproperlyConfigured (a 500) on a short X-Forwarded-For.
        return client_address(request)

    def validation_error(self, code: str, *args: Any) -> ValidationError:
        """allauth refuses a locked-out account's password or code through here: each such
        refusal is on the record, with the account it was for."""
        error: ValidationError = super().validation_error(code, *args)
        if code in LOCKOUT_CODES:
            request = context.request
            step = "code" if "/2fa/" in request.path else "password"
            record_authentication_event(
                user=_person_signing_in(request) if step == "code" else None,
                verb="auth.locked_out",
                request=request,
                username=str(request.POST.get("login", ""))[:150],
                step=step,
            )
        return error

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        """Count a wrong password against the client's own address. Past the limit the
        address's wrong guesses are refused as too many and recorded; a right password is never
        refused here (allauth only calls this on a failure), so a sweep of made-up names from one
        address, or from the balancer every request passes, locks out nobody but the guesser."""
        key = f"rcc:login-failed-address:{client_address(request)}"
        window = settings.LOGIN_FAILED_ADDRESS_WINDOW
        cache.add(key, 0, timeout=window)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr, or the cache is away
            failures = 1
        if failures > settings.LOGIN_FAILED_ADDRESS_LIMIT:
            # Once per window per address: each failure is already an auth.login_failed event,
            # and a sweep must not double the appends queued behind the audit chain's head.
            if cache.add(f"{key}:recorded", 1, timeout=window):
                record_authentication_event(
                    user=None,
                    verb="auth.address_throttled",
                    request=request,
                    username=str(credentials.get("username", ""))[:150],
                    failures=failures,
                )
            raise super().validation_error("too_many_login_attempts")

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """allauth asks for the password again before any MFA change, even a minute after
        signing in. Here a sign-in (password, and the second factor the MFA middleware insists
        on) inside REAUTHENTICATION_TIMEOUT counts as recent: the forced first enrolment and the
        recovery codes shown right after it do not ask twice. Later changes still reauthenticate."""
        required: bool = super().is_reauthentication_required(app=app, **kwargs)
        if not required:
            return False
        request = context.request
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return required
        records = get_authentication_records(request, user)
        if not records:
            return required
        age = time.time() - float(records[-1].get("at", 0))
        return age >= account_settings.REAUTHENTICATION_TIMEOUT


def _person_signing_in(request: HttpRequest) -> Any:
    """The account a refused attempt was for: the signed-in person, or the one whose password
    was right and who is now at the code step; None when only a name was typed."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    stage = get_pending_stage(request)
    return getattr(getattr(stage, "login", None), "user", None)
