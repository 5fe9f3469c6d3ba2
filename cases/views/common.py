"""What the incident and risk pages share: the actor, and one way to submit a form to a service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from cases.forms import (
    BootstrapForm,
)
from config.errors import Conflict, PreconditionFailed, PreconditionRequired
from config.pages import refused

REFUSED = (PermissionDenied, Conflict, PreconditionFailed, PreconditionRequired)
ROLL_OUT_REFUSED = gettext_lazy(
    "Only the office owning this domain, or the chair, rolls a fix out."
)


def _submit(
    request: HttpRequest,
    form: BootstrapForm,
    write: Callable[[dict[str, Any]], Any],
    *,
    invalid: Callable[[], HttpResponse],
    done: Callable[[Any], tuple[str, HttpResponse]],
) -> HttpResponse:
    """The shape of every write: parse, call one service, then a notice and a redirect; bad
    input stays on the form (400), a refused act says why (403/409/412)."""
    if not form.is_valid():
        return invalid()
    try:
        result = write(form.cleaned_data)
    except ValidationError as exc:
        form.apply(exc)
        return invalid()
    except REFUSED as exc:
        return refused(request, exc)
    notice, response = done(result)
    messages.success(request, notice)
    return response


def _refuse_form(request: HttpRequest, form: BootstrapForm) -> HttpResponse:
    """A lifecycle button has no form to show errors on: the refusal page says why."""
    reasons = [str(message) for errors in form.errors.values() for message in errors]
    return refused(request, ValidationError(reasons))
