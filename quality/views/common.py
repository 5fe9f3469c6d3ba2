"""What the quality pages share: the project a reader may see, labels and rating colours."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from config.errors import Conflict, PreconditionFailed, PreconditionRequired
from quality import selectors
from quality.models import Indicator, Project, Rag

REFUSALS = (PermissionDenied, Conflict, PreconditionFailed, PreconditionRequired, ValidationError)
RATING_CLASS = {Rag.GREEN: "table-success", Rag.AMBER: "table-warning", Rag.RED: "table-danger"}
HUNDRED = Decimal(100)


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def indicator_label(key: str) -> str:
    return str(Indicator(key).label) if key in Indicator.values else key


def visible_project(request: HttpRequest, pk: int) -> Project:
    """A project the reader may see, or a 404 (its existence is not leaked)."""
    return get_object_or_404(selectors.projects_for(request.user), pk=pk)
