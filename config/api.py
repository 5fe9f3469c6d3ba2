"""API plumbing shared by every app: cursor pagination and the JSON error contract."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from rest_framework import pagination, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.services import record_refusal
from config.errors import Conflict, PreconditionFailed, PreconditionRequired


class CursorPagination(pagination.CursorPagination):
    """Stable pages over large tables; a client may ask for smaller or larger pages, up to a cap."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        # A viewset states its own stable order with `ordering`, as it would for OrderingFilter.
        has_ordering_filter = any(
            issubclass(backend, OrderingFilter) for backend in getattr(view, "filter_backends", [])
        )
        ordering = getattr(view, "ordering", None)
        if ordering and not has_ordering_filter:
            chosen = (ordering,) if isinstance(ordering, str) else tuple(ordering)
        else:
            chosen = tuple(super().get_ordering(request, queryset, view))
        # The cursor holds the first field's value and an offset among equal values: rows that
        # tie must come in the same order on every page, or a page repeats or skips some.
        if not {"pk", "-pk", "id", "-id"} & set(chosen):
            chosen = (*chosen, "-pk" if chosen[0].startswith("-") else "pk")
        return chosen


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Services raise Django's ValidationError (400, with field errors) and Conflict (409);
    everything else is DRF's own mapping."""
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message, "code": exc.code}, status=409)
    if isinstance(exc, PreconditionFailed):
        return Response({"detail": exc.message, "code": "stale"}, status=412)
    if isinstance(exc, PreconditionRequired):
        return Response({"detail": exc.message, "code": "if_match_required"}, status=428)
    if isinstance(exc, DataError):
        # A value Python accepts but the database cannot hold (a time zone offset past ±16 h,
        # a year 5823): the request was wrong, not the server.
        return Response(
            {"detail": _("A value in the request is out of range."), "code": "out_of_range"},
            status=400,
        )
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = ValidationError(detail=exc.message_dict)
        else:
            exc = ValidationError(detail={"detail": exc.messages})
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == 403:
        request = context.get("request")
        if request is not None:
            record_refusal(user=request.user, request=request, reason=str(exc))
    return response


class StrictInput(serializers.Serializer):
    """An input serializer that refuses fields it does not know, so a client that sends
    `status` or `unit` where they cannot be changed hears so instead of a silent 200."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ValidationError(
                    {
                        name: [_("Unknown or read-only field; it cannot be set here.")]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 404 of a URL that matches no route: JSON under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)  # as the API says it
    return page_not_found(request, exception)


def refuse_body(request: Any) -> None:
    """An act that takes no body (publish, assess, issue...) refuses one, as StrictInput refuses
    an unknown field: a client that sends `status` or `unit` there meant to set it, and must
    hear that it cannot rather than get a 200 that ignored it."""
    data = request.data
    if data is None or (isinstance(data, Mapping) and not data):
        return  # no body, or an empty object
    names = sorted(data) if isinstance(data, Mapping) else ["non_field_errors"]
    raise ValidationError(
        {name: [_("This act takes no body; nothing can be set here.")] for name in names}
    )


def actor_of(request: Any) -> Any:
    """The signed-in person behind a request; every API view requires authentication, so it
    is always a real User (typed as such by the callers' services)."""
    return request.user


def read_only_slug(field: str, **kwargs: Any) -> serializers.SlugRelatedField:
    """A related record shown by its natural key (a unit's code, a person's username)."""
    return serializers.SlugRelatedField(slug_field=field, read_only=True, **kwargs)
