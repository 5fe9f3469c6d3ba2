"""Requests refused before any view reads them: a body in a character set nobody knows."""

from __future__ import annotations

import codecs
from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


class UnknownCharset(SuspiciousOperation):
    """The Content-Type names a charset Python cannot decode: the client's error, a 400."""


class MalformedRequestMiddleware:
    """Django decodes a form body with the charset its Content-Type names and raises
    LookupError (a 500) on one it does not know; refuse such a request as Django refuses any
    other malformed one, so the 400 comes through the site's handler (JSON under /api/)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        charset = request.content_params.get("charset") if request.content_params else None
        if charset:
            try:
                codecs.lookup(charset)
            except LookupError:
                raise UnknownCharset(
                    _("The request body's character set %(charset)s is unknown.")
                    % {"charset": charset[:40]}
                ) from None
        return self.get_response(request)
