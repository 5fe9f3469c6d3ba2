"""API token sign-in: knox's check of the token, without its housekeeping on every request."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.signals import token_expired


class ApiTokenAuthentication(TokenAuthentication):
    """knox's token authentication, which on every request also reads every other token of the
    person to delete the expired ones: a query a request for housekeeping. Here a request
    looks at its own token only (an expired one is refused and deleted, as knox does); the
    person's other expired tokens go when a token is next issued to them
    (accounts.services.issue_api_token), and are refused meanwhile if anyone presents them."""

    def _cleanup_token(self, auth_token: Any) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class ApiTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the tokens, as drf-spectacular describes knox's."""

    target_class = "accounts.authentication.ApiTokenAuthentication"
