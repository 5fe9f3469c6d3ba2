"""allauth adapter: no self sign-up, and a fresh sign-in counts as a recent reauthentication."""

from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False  # accounts are provisioned by administrators

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
