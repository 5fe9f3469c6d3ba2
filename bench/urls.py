"""The product's URLs plus the bare views the benchmarks compare against."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.request import Request

from accounts.authentication import ApiTokenAuthentication
from actions.models import Action
from actions.selectors import LIST_ROW
from config.urls import urlpatterns as product

# The same columns the list shows (actions.selectors.LIST_ROW), joins included.
BARE_FIELDS = list(LIST_ROW.values())


def _signed_in(request: HttpRequest) -> Any:
    """The same token check the API makes (knox), and nothing else of DRF."""
    found = ApiTokenAuthentication().authenticate(Request(request))
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


def bare_all_actions(request: HttpRequest) -> JsonResponse:
    """P1b's bare side: every action, unfiltered, keyset-paged on (due_on, id), 50 a page; the
    reader only signed in (oversight reads everything, so there is nothing to scope by)."""
    if _signed_in(request) is None:
        return JsonResponse({"detail": "sign in"}, status=401)
    rows = Action.objects.order_by("due_on", "pk")
    if "after" in request.GET:
        due, pk = request.GET["after"].split(",")
        day = dt.date.fromisoformat(due)
        rows = rows.filter(Q(due_on__gt=day) | Q(due_on=day, pk__gt=int(pk)))
    return JsonResponse({"results": list(rows.values(*BARE_FIELDS)[:50])})


_HISTORY = Action.history.model  # simple-history adds it
_TRACKED = ", ".join(
    f.column for f in _HISTORY._meta.concrete_fields if not f.name.startswith("history_")
)
_WRITE_HISTORY = (
    f"INSERT INTO {_HISTORY._meta.db_table} ({_TRACKED}, history_date, history_change_reason, "  # nosec B608
    f"history_type, history_user_id) SELECT {_TRACKED}, now(), NULL, '~', NULL "
    "FROM actions_action WHERE id = %s"
)


def bare_update_rows(request: HttpRequest, pk: int) -> JsonResponse:
    """P3's bare side: after the same token check, the rows a status update writes (the update
    row, the action's new version, its history row, its audit event, unsealed as ours is) by
    hand-written SQL in one transaction, and nothing else: no scope, grant, lock or If-Match."""
    user = _signed_in(request)
    if user is None:
        return JsonResponse({"detail": "sign in"}, status=401)
    body = json.loads(request.body)
    percent, note = int(body["percent_done"]), str(body.get("note", ""))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO actions_actionupdate (action_id, author_id, at, note, percent_done, "
            "new_status) VALUES (%s, %s, now(), %s, %s, '') RETURNING id",
            [pk, user.pk, note, percent],
        )
        update = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE actions_action SET percent_done = %s, version = version + 1, "
            "updated_at = now() WHERE id = %s RETURNING version, reference, title",
            [percent, pk],
        )
        version, reference, title = cursor.fetchone()
        cursor.execute(_WRITE_HISTORY, [pk])
        cursor.execute(
            "INSERT INTO audit_auditevent (occurred_at, actor_id, actor_label, office, verb, "
            "target_type, target_id, target_label, details, prev_hash) VALUES (now(), %s, %s, "
            "'', 'action.updated', 'actions.action', %s, %s, %s, '')",
            [
                user.pk,
                user.get_username(),
                str(pk),
                f"{reference} {title}",
                json.dumps({"update": update, "percent_done": percent, "files": []}),
            ],
        )
    return JsonResponse({"id": update, "percent_done": percent, "version": version}, status=201)


def _csrf_exempt(view: Any) -> Any:
    view.csrf_exempt = True
    return view


urlpatterns = [
    path("bench/actions/", bare_actions),
    path("bench/actions/all/", bare_all_actions),
    path("bench/actions/<int:pk>/update-rows/", _csrf_exempt(bare_update_rows)),
    *product,
]
