"""Session rules for every interactive request: idle and absolute time-outs, and MFA before anything."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from allauth.account.internal.flows.login import get_authentication_records
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from accounts import policy
from accounts.receivers import MFA_SESSION_KEY, SESSION_STARTED_KEY
from accounts.services import record_authentication_event

LAST_SEEN_KEY = "rcc.last_seen"


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _session_proved_second_factor(request: HttpRequest, user: Any) -> bool:
    """Did *this* session prove a second factor (a code at sign-in, or enrolling TOTP here)?"""
    session = request.session
    if session.get(MFA_SESSION_KEY) == user.pk:
        return True
    if any(r.get("method") == "mfa" for r in get_authentication_records(request, user)):
        session[MFA_SESSION_KEY] = user.pk
        return True
    return False


class SessionTimeoutMiddleware:
    """Sign a person out after SESSION_IDLE_TIMEOUT of inactivity or SESSION_ABSOLUTE_TIMEOUT in all."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.setdefault(SESSION_STARTED_KEY, now)
            last_seen = session.get(LAST_SEEN_KEY, now)
            idle = now - last_seen > settings.SESSION_IDLE_TIMEOUT
            too_long = now - started > settings.SESSION_ABSOLUTE_TIMEOUT
            if idle or too_long:
                record_authentication_event(
                    user=request.user,
                    verb="auth.session_expired",
                    request=request,
                    reason="idle" if idle else "absolute",
                )
                logout(request)
                messages.info(request, "Your session expired; please sign in again.")
            elif now - last_seen >= 60 or LAST_SEEN_KEY not in session:
                # Touch at most once a minute, so reading pages does not write a session per request.
                session[LAST_SEEN_KEY] = now
        return self.get_response(request)


class RequireMFAMiddleware:
    """No page, API call or admin screen for a signed-in person until a second factor is proved.

    allauth has no "require MFA" switch. A person with no authenticator is sent to enrolment;
    a session that signed in with a password alone although the person has TOTP is ended.
    Token-authenticated API clients (integrations) are authenticated later, by DRF, and are
    not interactive users.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.exempt = tuple(settings.MFA_ENROLMENT_EXEMPT_PREFIXES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        if request.path.startswith(self.exempt):
            enrolling = (
                request.method == "POST"
                and request.path == reverse("mfa_activate_totp")
                and not policy.has_mfa(user)
            )
            response = self.get_response(request)
            if enrolling and policy.has_mfa(user):
                # This session just typed a valid code from the authenticator it enrolled.
                # (allauth's own signal fires only after commit; the mark must be this session's.)
                request.session[MFA_SESSION_KEY] = user.pk
            return response
        if _session_proved_second_factor(request, user):
            return self.get_response(request)
        if policy.has_mfa(user):
            logout(request)
            return self._refuse(request, "account_login", "Sign in with your authenticator code.")
        return self._refuse(
            request, "mfa_activate_totp", "Set up an authenticator app before you continue."
        )

    def _refuse(self, request: HttpRequest, url_name: str, message: str) -> HttpResponse:
        if _wants_json(request):
            return JsonResponse({"detail": message, "code": "mfa_required"}, status=403)
        messages.warning(request, message)
        target = reverse(url_name)
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
