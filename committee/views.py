"""Pages of the committee, starting with the dashboard every signed-in person lands on."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import selectors as accounts_selectors


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The landing page: who you are and where to go. Its panels arrive with the domain issues."""
    return render(
        request, "committee/dashboard.html", {"me": accounts_selectors.profile_of(request.user)}
    )
