"""The product's URLs plus the bare views the benchmarks compare against."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, Q
from django.http import HttpRequest, JsonResponse
from django.urls import path
from knox.auth import TokenAuthentication
from rest_framework.request import Request

from actions.models import Action
from actions.selectors import LIST_ROW
from config.urls import urlpatterns as product

# The same columns the list shows (actions.selectors.LIST_ROW), joins included.
BARE_FIELDS = list(LIST_ROW.values())


def _signed_in(request: HttpRequest) -> Any:
    """The same token check the API makes (knox), and nothing else of DRF."""
    found = TokenAuthentication().authenticate(Request(request))
    return found[0] if found else None


def bare_actions(request: HttpRequest) -> JsonResponse:
    """The same rows as the action list, with .values(): the unit's actions by a join on the
    membership, one status, keyset-paged on (due_on, id), 50 a page."""
    user = _signed_in(request)
    if user is None:
        return JsonResponse({"detail": "sign in"}, status=401)
    rows = Action.objects.filter(
        unit__memberships__user=user, status=request.GET["status"]
    ).order_by("due_on", "pk")
    if "after" in request.GET:
        due, pk = request.GET["after"].split(",")
        day = dt.date.fromisoformat(due)
        rows = rows.filter(Q(due_on__gt=day) | Q(due_on=day, pk__gt=int(pk)))
    return JsonResponse({"results": list(rows.values(*BARE_FIELDS)[:50])})


def bare_update(request: HttpRequest, pk: int) -> JsonResponse:
    """One UPDATE of the row, nothing else: no check, no history, no audit."""
    if _signed_in(request) is None:
        return JsonResponse({"detail": "sign in"}, status=401)
    percent = int(request.POST["percent_done"])
    Action.objects.filter(pk=pk).update(percent_done=percent, version=F("version") + 1)
    return JsonResponse({"id": pk, "percent_done": percent})


def _csrf_exempt(view: Any) -> Any:
    view.csrf_exempt = True
    return view


urlpatterns = [
    path("bench/actions/", bare_actions),
    path("bench/actions/<int:pk>/update/", _csrf_exempt(bare_update)),
    *product,
]
