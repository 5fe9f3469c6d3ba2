"""API plumbing shared by every app: cursor pagination and the JSON error contract."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from collections.abc import Mapping
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import (
    FieldDoesNotExist,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, models
from django.db.models import F, Q
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
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
    """Stable pages over large tables; a client may ask for smaller or larger pages, up to a cap.

    A cursor holds the whole sort key of the row a page ends on: the value of every ordering
    field, and the id after them, so it names one row and the next page starts right after
    it, however many rows share a value. DRF's own cursor holds the first field's value and an
    offset among the rows equal in it, capped at `offset_cutoff`: past a thousand rows due the
    same day, `next` named the page it was on, and a client walking the list looped for ever.
    """

    ordering: str | list[str] | tuple[str, ...] = "-pk"
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
        # The id makes the key unique: it ends the ordering, in the last field's direction (so
        # an index on (due_on, id) serves "due_on" and "-due_on" alike); after it nothing counts.
        # By its name, not "pk": a list read with .values() has rows that hold "id".
        pk = queryset.model._meta.pk.name
        key: list[str] = []
        for term in chosen:
            name = term.lstrip("-")
            if name in {"pk", pk}:
                return (*key, term.replace(name, pk))
            key.append(term)
        return (*key, f"-{pk}" if key and key[-1].startswith("-") else pk)

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        """DRF's, but the rows after the cursor are those whose whole key comes after its
        position (`_after`), so the offset is always 0 for a cursor this class wrote."""
        self.request = request
        self.page_size = self.get_page_size(request)
        if not self.page_size:
            return None
        self.base_url = request.build_absolute_uri()
        ordering = self.get_ordering(request, queryset, view)
        self.ordering = ordering
        self.key_fields = [_key_field(queryset, term.lstrip("-")) for term in ordering]
        self.cursor = self.decode_cursor(request)
        offset, reverse, current_position = 0, False, None
        if self.cursor is not None:
            offset, reverse = self.cursor.offset, self.cursor.reverse
            current_position = cast(str | None, self.cursor.position)  # text: the stubs say int
        order = pagination._reverse_ordering(ordering) if reverse else ordering
        queryset = queryset.order_by(*order)
        if current_position is not None:
            queryset = queryset.filter(_after(order, self.position_values))

        # One row more than the page, to know whether another follows.
        results = list(queryset[offset : offset + self.page_size + 1])
        self.page = results[: self.page_size]
        if len(results) > len(self.page):
            has_following_position = True
            following_position = self._get_position_from_instance(results[-1], ordering)
        else:
            has_following_position = False
            following_position = None
        if reverse:
            # Read backwards: the rows go back into the list's order.
            self.page = list(reversed(self.page))
            self.has_next = (current_position is not None) or (offset > 0)
            self.has_previous = has_following_position
            if self.has_next:
                self.next_position = current_position
            if self.has_previous:
                self.previous_position = following_position
        else:
            self.has_next = has_following_position
            self.has_previous = (current_position is not None) or (offset > 0)
            if self.has_next:
                self.next_position = following_position
            if self.has_previous:
                self.previous_position = current_position
        if (self.has_previous or self.has_next) and self.template is not None:
            self.display_page_controls = True
        return self.page

    def _get_position_from_instance(self, instance: Any, ordering: Any) -> str:
        """A row's whole key, as the cursor's `p` holds it: a JSON list of the values' text."""
        values = []
        for term in ordering:
            name = term.lstrip("-")
            value = instance[name] if isinstance(instance, dict) else getattr(instance, name)
            values.append(None if value is None else str(value))
        return json.dumps(values, separators=(",", ":"))

    def decode_cursor(self, request: Any) -> pagination.Cursor | None:
        """A cursor is the client's to send back: a position that is not a key of this list
        (another list's, one DRF's cursor wrote, values of the wrong number or kind) or that
        its columns cannot hold (a moment that overflows when converted to UTC, a number past
        64 bits) is a bad cursor, a 404 like any other, rather than a 500 from the database."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            self.position_values = self._read_position(str(cursor.position))
        return cursor

    def _read_position(self, position: str) -> list[Any]:
        try:
            values = json.loads(position)
        except ValueError:
            raise NotFound(self.invalid_cursor_message) from None
        if not isinstance(values, list) or len(values) != len(self.key_fields):
            raise NotFound(self.invalid_cursor_message)
        read = []
        for field, text in zip(self.key_fields, values, strict=True):
            # Never NULL: an ordering names columns that cannot be (tests/config/test_cursor_ties).
            if not isinstance(text, str):
                raise NotFound(self.invalid_cursor_message)
            try:
                value = field.to_python(text)
            except (DjangoValidationError, ValueError, TypeError, OverflowError):
                raise NotFound(self.invalid_cursor_message) from None
            if not _position_fits(field, value):
                raise NotFound(self.invalid_cursor_message)
            read.append(value)
        return read


def _key_field(queryset: Any, name: str) -> Any:
    """The field whose values an ordering term sorts: a column, or a sort key the view
    annotates (findings' coalesced due date); one across a relation reads as the ORM reads it."""
    if name == "pk":
        return queryset.model._meta.pk
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field
    try:
        return queryset.model._meta.get_field(name)
    except FieldDoesNotExist:
        return models.Field()


def _after(ordering: tuple[str, ...], values: list[Any]) -> Any:
    """The rows whose key comes after `values` in `ordering`. In one direction, a row
    comparison, `(due_on, id) > (%s, %s)`, which an index on those columns starts at; in
    several, field by field: a > x OR (a = x AND (b < y OR (b = y AND ...))), within the
    first field's range, which its index narrows to."""
    names = [term.lstrip("-") for term in ordering]
    descending = [term.startswith("-") for term in ordering]
    if len(names) == 1:
        return Q(**{f"{names[0]}__{'lt' if descending[0] else 'gt'}": values[0]})
    if len(set(descending)) == 1:
        compare = TupleLessThan if descending[0] else TupleGreaterThan
        return compare(Tuple(*(F(name) for name in names)), tuple(values))
    condition: Q | None = None
    for name, down, value in reversed(list(zip(names, descending, values, strict=True))):
        beyond = Q(**{f"{name}__{'lt' if down else 'gt'}": value})
        condition = beyond if condition is None else beyond | (Q(**{name: value}) & condition)
    assert condition is not None  # two fields at least: the directions differ
    first = Q(**{f"{names[0]}__{'lte' if descending[0] else 'gte'}": values[0]})
    return first & condition


def _position_fits(field: Any, value: Any) -> bool:
    """Whether a column can hold a cursor's value, so comparing with it cannot fail."""
    if isinstance(value, dt.datetime):
        return dates.representable(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**63) <= value < 2**63
    if isinstance(field, models.GenericIPAddressField):
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return False
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
