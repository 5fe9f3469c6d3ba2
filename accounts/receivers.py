"""Audit receivers for sign-in, sign-out and MFA signals sent by Django and allauth."""

from __future__ import annotations

import time
from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver

from accounts.services import record_authentication_event

MFA_SESSION_KEY = "rcc.mfa_user"
SESSION_STARTED_KEY = "rcc.session_started"


def _mark_mfa_verified(request: Any, user: Any) -> None:
    # The session proved a second factor for this user: enrolment or a code at sign-in.
    if request is not None and hasattr(request, "session"):
        request.session[MFA_SESSION_KEY] = user.pk


@receiver(auth_signals.user_logged_in)
def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED_KEY] = time.time()
    record_authentication_event(user=user, verb="auth.login", request=request)


@receiver(auth_signals.user_logged_out)
def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record_authentication_event(user=user, verb="auth.logout", request=request)


@receiver(auth_signals.user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # Django has already cleansed the credentials; keep only the name that was tried.
    tried = credentials.get("username") or credentials.get("login") or ""
    record_authentication_event(
        user=None, verb="auth.login_failed", request=request, username=str(tried)
    )


@receiver(account_signals.password_reset)
def on_password_reset(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # A password set from a mailed link: whoever holds the mailbox now holds the password.
    record_authentication_event(user=user, verb="auth.password_reset", request=request)


@receiver(account_signals.password_changed)
def on_password_changed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_authentication_event(user=user, verb="auth.password_changed", request=request)


@receiver(mfa_signals.authenticator_added)
def on_mfa_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    _mark_mfa_verified(request, user)
    record_authentication_event(
        user=user, verb="mfa.enrolled", request=request, type=authenticator.type
    )


@receiver(mfa_signals.authenticator_removed)
def on_mfa_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session.pop(MFA_SESSION_KEY, None)
    record_authentication_event(
        user=user, verb="mfa.removed", request=request, type=authenticator.type
    )


@receiver(mfa_signals.authenticator_reset)
def on_mfa_reset(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    record_authentication_event(
        user=user, verb="mfa.reset", request=request, type=authenticator.type
    )


@receiver(mfa_signals.authenticator_used)
def on_mfa_used(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    _mark_mfa_verified(request, user)
    record_authentication_event(
        user=user, verb="mfa.verified", request=request, type=authenticator.type
    )


@receiver(mfa_signals.authentication_failed)
def on_mfa_failed(
    sender: Any, request: Any, user: Any, authenticator: Any = None, **kwargs: Any
) -> None:
    record_authentication_event(
        user=user,
        verb="mfa.failed",
        request=request,
        type=getattr(authenticator, "type", ""),
    )
