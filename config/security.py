"""Response headers that hold the pages to what they need: a Content Security Policy (no inline
script, nothing from another origin), the browser features the product never uses, and no copy
of a page, answer, file or export kept by a shared cache."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

# The product's own pages: scripts and styles from this origin only (htmx and rcc.js are static
# files; no template has inline script or style), images may be data: URIs (the TOTP QR code).
STRICT = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Django's admin and the Swagger UI ship inline script and style we do not control.
RELAXED = STRICT.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.relaxed = tuple(settings.CSP_RELAXED_PREFIXES)
        self.static = settings.STATIC_URL

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = RELAXED if request.path.startswith(self.relaxed) else STRICT
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        said = response.headers.get("Cache-Control", "")
        if not request.path.startswith(self.static) and not (
            "private" in said or "no-store" in said
        ):
            # Everything but the static files speaks of someone's cases, systems or evidence (a
            # sign-in page carries a CSRF token): no shared cache may keep a copy. A view that
            # already said private (the calendar feed a client polls) keeps its own word.
            patch_cache_control(response, private=True, no_store=True)
        return response
