"""allauth adapter: no self sign-up, and first-time MFA enrolment right after signing in."""

from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from django.http import HttpRequest

from accounts import policy


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False  # accounts are provisioned by administrators

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """A person made to enrol TOTP straight after signing in is not asked for the password
        again; changing an existing factor still needs a fresh reauthentication."""
        required: bool = super().is_reauthentication_required(app=app, **kwargs)
        if not required or app != "allauth.mfa":
            return required
        request = context.request
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or policy.has_mfa(user):
            return required
        records = get_authentication_records(request, user)
        fresh = bool(records) and (
            time.time() - float(records[-1].get("at", 0))
            < account_settings.REAUTHENTICATION_TIMEOUT
        )
        return not fresh
