"""Requests refused before any view reads them: a body in a character set that is not one."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _


class UnknownCharset(SuspiciousOperation):
    """The Content-Type names a charset that decodes no text: the client's error, a 400."""


def charset_problem(content_type: str) -> str | None:
    """The charset a Content-Type names when Python cannot decode text with it: an unknown
    name, or a codec that is not a text encoding (rot13, base64, zlib...), on which Django's
    form and query-string parsing raise LookupError. None when the charset is fine or absent."""
    _kind, params = parse_header_parameters(content_type or "")
    charset = params.get("charset")
    if not charset:
        return None
    try:
        return None if codecs.lookup(charset)._is_text_encoding else charset
    except LookupError:
        return charset


def _refusal(charset: str) -> str:
    return _("The request body's character set %(charset)s is unknown.") % {"charset": charset[:40]}


class MalformedRequestMiddleware:
    """Refuse such a request as Django refuses any other malformed one, so the 400 comes through
    the site's handler (JSON under /api/) instead of a LookupError when a view reads the body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        charset = charset_problem(request.META.get("CONTENT_TYPE", ""))
        if charset:
            raise UnknownCharset(_refusal(charset))
        return self.get_response(request)


class RefuseUndecodableCharset:
    """WSGI wrapper for the one case Django cannot reach: with a query string, building the
    request object itself decodes it in the named charset and raises before any middleware
    runs, so the server would answer with its own HTML 500. Answer 400 here instead."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        charset = charset_problem(environ.get("CONTENT_TYPE", ""))
        if not charset:
            return self.app(environ, start_response)
        message = f"The request body's character set {charset[:40]} is unknown."
        if environ.get("PATH_INFO", "").startswith("/api/"):
            body = json.dumps({"detail": message, "code": "malformed_request"}).encode()
            kind = "application/json"
        else:
            body, kind = message.encode(), "text/plain; charset=utf-8"
        start_response(
            "400 Bad Request",
            [
                ("Content-Type", kind),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]
