"""allauth adapter: accounts are provisioned by administrators, never by self sign-up."""

from __future__ import annotations

from django.http import HttpRequest
from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
