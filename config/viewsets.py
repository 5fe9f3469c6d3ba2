"""The viewset every app's API reads through: selector-scoped lists, and an ETag on each record."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from config.versioning import etag_of


class VersionedReadViewSet(viewsets.ReadOnlyModelViewSet):
    """Reads through the app's selector (`get_queryset`); a single record carries its ETag,
    which the client sends back as If-Match on its next write."""

    filter_backends = [DjangoFilterBackend, OrderingFilter]

    def etag(self, instance: Any) -> str:
        return etag_of(instance)

    def filter_queryset(self, queryset: Any) -> Any:
        """Filters narrow lists. A record is found by its id alone (still within what the reader
        may see): a list's query string on a record's URL changes nothing, and costs nothing."""
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def retrieve(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        return Response(self.get_serializer(instance).data, headers={"ETag": self.etag(instance)})
