"""The language switcher: Django's own (the cookie), and the choice kept for the person's mail."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views import i18n

from accounts import services


def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the site's language as Django does; a signed-in person's pick is also kept, since
    mail is composed far from any request and its cookie."""
    response = i18n.set_language(request)
    chosen = request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER, "") if request.method == "POST" else ""
    offered = {code for code, _name in settings.LANGUAGES}
    # Only what Django accepted (it set the cookie) and the site offers.
    accepted = settings.LANGUAGE_COOKIE_NAME in response.cookies and chosen in offered
    if accepted and request.user.is_authenticated:
        services.set_language(actor=request.user, language=chosen)
    return response
