"""The admin site: everyone signs in through allauth (password and second factor), a signed-in
person without admin access is told so instead of being sent round in a loop, and a save or an
action a service refuses says why on the admin's own page."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Model
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts.services import record_refusal
from config.errors import Conflict, PreconditionFailed, PreconditionRequired
from config.pages import refusal

# What a service raises to refuse an act; anything else is a fault and stays a 500.
REFUSALS = (PermissionDenied, ValidationError, Conflict, PreconditionFailed, PreconditionRequired)
_REFUSED = "_rcc_admin_refused"  # the refusal a save, delete or action raised on this request
_SHOWING = "_rcc_admin_showing"  # the refusal the form being rendered again must show


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


@contextmanager
def _noted(request: HttpRequest) -> Iterator[None]:
    """Mark a refusal raised by a write (a service behind save_model, an action) as one to show.
    Django's own PermissionDenied (no change permission, say) is not marked: it stays a 403."""
    try:
        yield
    except REFUSALS as exc:
        setattr(request, _REFUSED, exc)
        raise


def _placed(exc: Exception, form: BaseForm) -> list[tuple[str | None, list[str]]]:
    """Where each part of a refusal goes on the form: a field's own errors beside it, the rest
    (and every refusal that is not about input) at the top."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return [
            (field if field in form.fields and field != NON_FIELD_ERRORS else None, errors)
            for field, errors in exc.message_dict.items()
        ]
    return [(None, [refusal(exc)[1]])]


class ShowsRefusals(admin.ModelAdmin[Any]):
    """Mixed into every model's admin by SiteAdmin.register. The admin saves, deletes and runs
    actions through the services, which refuse with PermissionDenied, ValidationError or
    Conflict; unhandled, those were a bare 403 or a 500. Here a refused save shows the form
    again, as typed, with the reason on it (the transaction rolled back); a refused delete or
    action goes back to its page with the reason as a message."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with _noted(request):
            super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        with _noted(request):
            super().save_related(request, form, formsets, change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with _noted(request):
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with _noted(request):
            super().delete_queryset(request, queryset)

    def response_action(
        self, request: HttpRequest, queryset: Any, *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        with _noted(request):
            return super().response_action(request, queryset, *args, **kwargs)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        # By keyword: UserAdmin's get_form takes `change` only among its keyword arguments.
        form_class = super().get_form(request, obj, change=change, **kwargs)
        shown: Exception | None = getattr(request, _SHOWING, None)
        if shown is None:
            return form_class
        exc: Exception = shown

        class Refused(form_class):  # type: ignore[misc,valid-type]
            def clean(self) -> Any:
                cleaned = super().clean()
                for field, errors in _placed(exc, self):
                    self.add_error(field, errors)
                return cleaned

        return Refused

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except REFUSALS as exc:
            if getattr(request, _REFUSED, None) is not exc:
                raise
            refused = exc
        status = self._refused(request, refused)
        # The same POST again: the form now fails with the reason, so nothing is saved and the
        # person sees what they typed, and why it was not accepted.
        setattr(request, _SHOWING, refused)
        response = super().changeform_view(request, object_id, form_url, extra_context)
        response.status_code = status
        return response

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except REFUSALS as exc:
            if getattr(request, _REFUSED, None) is not exc:
                raise
            self._tell(request, exc)
            return HttpResponseRedirect(request.get_full_path())

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().changelist_view(request, extra_context)
        except REFUSALS as exc:  # an action, a bulk delete or a list_editable save
            if getattr(request, _REFUSED, None) is not exc:
                raise
            self._tell(request, exc)
            return HttpResponseRedirect(request.get_full_path())

    def _refused(self, request: HttpRequest, exc: Exception) -> int:
        status, reason = refusal(exc)
        if status == 403:  # as on the pages: probing for authority leaves a trace
            record_refusal(user=request.user, request=request, reason=reason)
        return status

    def _tell(self, request: HttpRequest, exc: Exception) -> None:
        self._refused(request, exc)
        self.message_user(
            request, _("Not done: %(reason)s") % {"reason": refusal(exc)[1]}, messages.ERROR
        )


class SiteAdmin(admin.AdminSite):
    """Django's admin site, on which every registered admin (ours and the libraries') shows a
    refused write on its page (ShowsRefusals) rather than failing with a 403 or a 500."""

    def register(
        self,
        model_or_iterable: type[Model] | Iterable[type[Model]],
        admin_class: type[admin.ModelAdmin[Any]] | None = None,
        **options: Any,
    ) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, ShowsRefusals):
            # One place for every admin, so a new one cannot forget it.
            admin_class = type(
                admin_class.__name__,
                (ShowsRefusals, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)
