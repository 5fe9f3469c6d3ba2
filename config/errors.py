"""Domain errors every app's services may raise, and what the API answers for each."""

from __future__ import annotations

from django.utils.translation import gettext as _


class Conflict(Exception):
    """The write collides with the current state (a second suspension, a stale version): 409."""

    def __init__(self, message: str, *, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class PreconditionFailed(Exception):
    """The client's If-Match names a version that is no longer current: 412."""

    def __init__(self, message: str | None = None) -> None:
        # The default is translated when raised, in the language of the request at hand.
        if message is None:
            message = _("The record changed since you read it; read it again.")
        super().__init__(message)
        self.message = message


class PreconditionRequired(Exception):
    """An update arrived without If-Match, so it could silently overwrite someone's change: 428."""

    def __init__(self, message: str | None = None) -> None:
        if message is None:
            message = _("Send If-Match with the ETag you read, so no change is overwritten.")
        super().__init__(message)
        self.message = message
