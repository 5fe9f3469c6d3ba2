"""The admin's way in: everyone signs in through allauth (password and second factor), and a
signed-in person without admin access is told so instead of being sent round in a loop."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _


def admin_login(request: HttpRequest) -> HttpResponse:
    """Where the admin sends a request it will not serve. Signed out: on to the site's sign-in,
    which knows the second factor (the admin's own form does not). Signed in without admin
    access: a 403 saying why, since sign-in would send the person straight back here."""
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("admin:index")
    if request.user.is_authenticated and request.user.is_active and request.user.is_staff:
        return HttpResponseRedirect(target)  # signed in with access already: on to the admin
    if request.user.is_authenticated:
        reason = _(
            "You are signed in as %(user)s, who has no access to the administration. "
            "Ask an administrator if you need it."
        ) % {"user": request.user.get_username()}
        return render(request, "refused.html", {"reason": reason}, status=403)
    query = urlencode({"next": target}, safe="/")
    return HttpResponseRedirect(f"{reverse('account_login')}?{query}")
