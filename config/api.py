"""API plumbing shared by every app: cursor pagination and the JSON error contract."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    FieldDoesNotExist,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import pagination, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.services import record_refusal
from config import dates, pages
from config.errors import Conflict, PreconditionFailed, PreconditionRequired
from config.requests import UnknownCharset


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

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        self.model = queryset.model  # what decode_cursor reads the position against
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Any) -> pagination.Cursor | None:
        """A cursor is the client's to send back: one whose position the ordering field cannot
        hold (a moment that overflows when converted to UTC, a number past 64 bits) is a bad
        cursor, a 404 like any other, rather than a 500 from the database driver."""
        cursor = super().decode_cursor(request)
        position = cursor.position if cursor is not None else None
        if position is not None and not _position_fits(
            self.model, self.ordering[0].lstrip("-"), position
        ):
            raise NotFound(self.invalid_cursor_message)
        return cursor


def _position_fits(model: Any, name: str, position: Any) -> bool:
    try:
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    except FieldDoesNotExist:
        return True  # ordered across a relation: the ORM reads the position
    try:
        value = field.to_python(position)
    except DjangoValidationError:
        return False
    if isinstance(value, dt.datetime):
        return dates.representable(value)
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return True


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
    if isinstance(exc, SuspiciousOperation):
        # A body past the size limit, too many fields or files, a multipart body that does not
        # parse: the request was wrong. Django would answer with its HTML 400 page.
        return Response(
            {"detail": malformed_request_message(exc), "code": "malformed_request"},
            status=413 if isinstance(exc, RequestDataTooBig) else 400,
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


def malformed_request_message(exc: Exception) -> str:
    """What was wrong with a request Django refused before any view could read it."""
    if isinstance(exc, RequestDataTooBig):
        return _("The request body is larger than the server accepts.")
    if isinstance(exc, TooManyFilesSent):
        return _("The request sends more files than the server accepts at once.")
    if isinstance(exc, TooManyFieldsSent):
        return _("The request sends more fields than the server accepts.")
    if isinstance(exc, UnknownCharset):
        return str(exc)
    return _("The request is malformed.")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 404 of a URL that matches no route (or a view's Http404): JSON under /api/, the
    product's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)  # as the API says it
    return pages.error_page(request, 404)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 (a request refused before a view ran): JSON with the reason under /api/."""
    if request.path.startswith("/api/"):
        status = 413 if isinstance(exception, RequestDataTooBig) else 400
        body = {"detail": malformed_request_message(exception), "code": "malformed_request"}
        return JsonResponse(body, status=status)
    return pages.error_page(request, 400, reason=malformed_request_message(exception))


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 403 outside a viewset (a CSRF failure on a session call): JSON under /api/; a
    page elsewhere that says why (services refuse with a sentence meant for the person)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(exception) or _("You may not do this.")}, status=403)
    return pages.error_page(request, 403, reason=str(exception))


def server_error(request: HttpRequest) -> HttpResponse:
    """The last resort: a JSON body under /api/, so a client always gets a message to show;
    elsewhere the product's page, which reads neither the database nor the user."""
    if request.path.startswith("/api/"):
        body = {"detail": _("The server failed to answer; the error was logged."), "code": "error"}
        return JsonResponse(body, status=500)
    return pages.error_page(request, 500)


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
