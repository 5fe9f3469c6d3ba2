"""Admin for the system register; suspending and lifting go through the services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import User
from config.errors import Conflict
from config.pages import refusal
from systems import services
from systems.models import Component, NetworkIdentity, SbomUpload, SuspensionOrder, System


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)  # the admin is behind login and MFA


@admin.register(System)
class SystemAdmin(SimpleHistoryAdmin):
    list_display = [
        "code",
        "name",
        "unit",
        "environment",
        "internet_facing",
        "handles_personal_data",
        "mfa_enforced",
        "criticality",
        "status",
        "registration",
    ]
    list_filter = [
        "status",
        "environment",
        "criticality",
        "internet_facing",
        "handles_personal_data",
        "mfa_enforced",
        "registration",
        "unit",
    ]
    search_fields = ["code", "name", "description"]
    list_select_related = ["unit"]
    autocomplete_fields = ["unit"]
    readonly_fields = ["status", "registered_by", "created_at", "updated_at"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The owning unit changes only through move_system, which moves the grants too.
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "unit", "code", "registration"]

    def save_model(self, request: HttpRequest, obj: System, form: Any, change: bool) -> None:
        if change:
            changed = {
                f: form.cleaned_data[f]
                for f in form.changed_data
                if f in services.CHANGEABLE_FIELDS
            }
            services.update_system(actor=_actor(request), system=obj, **changed)
        else:
            created = services.register_system(
                actor=_actor(request),
                unit=obj.unit,
                code=obj.code,
                name=obj.name,
                description=obj.description,
                environment=obj.environment,
                internet_facing=obj.internet_facing,
                handles_personal_data=obj.handles_personal_data,
                mfa_enforced=obj.mfa_enforced,
                criticality=obj.criticality,
                registration=obj.registration,
            )
            obj.pk = created.pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retire a system; never delete it

    actions = ["retire"]

    @admin.action(description="Retire the selected systems")
    def retire(self, request: HttpRequest, queryset: QuerySet[System]) -> None:
        retired = 0
        for system in queryset:
            try:
                services.retire_system(
                    actor=_actor(request), system=system, reason="Retired in the admin"
                )
                retired += 1
            except (PermissionDenied, ValidationError, Conflict) as exc:
                self.message_user(request, f"{system.code}: {refusal(exc)[1]}", messages.ERROR)
        self.message_user(request, f"Retired {retired} system(s).", messages.SUCCESS)


class LiftForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


@admin.register(SuspensionOrder)
class SuspensionOrderAdmin(SimpleHistoryAdmin):
    list_display = [
        "system",
        "status",
        "issued_office",
        "issued_by",
        "issued_at",
        "ratification",
        "lifted_at",
    ]
    list_filter = ["status", "ratification", "issued_office"]
    search_fields = ["system__code", "reason"]
    list_select_related = ["system", "issued_by"]
    autocomplete_fields = ["system"]
    raw_id_fields = ["case"]
    actions = ["lift"]
    fields = ["system", "case", "reason"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return [f.name for f in SuspensionOrder._meta.fields]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields if obj is None else [f.name for f in SuspensionOrder._meta.fields]

    def save_model(
        self, request: HttpRequest, obj: SuspensionOrder, form: Any, change: bool
    ) -> None:
        if change:
            return
        order = services.suspend_system(
            actor=_actor(request), system=obj.system, reason=obj.reason, case=obj.case
        )
        obj.pk = order.pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Lift the selected suspensions")
    def lift(
        self, request: HttpRequest, queryset: QuerySet[SuspensionOrder]
    ) -> HttpResponse | None:
        form = LiftForm(request.POST if "reason" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/systems/lift_suspensions.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Lift suspensions",
                    "orders": queryset,
                    "form": form,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        lifted = 0
        for order in queryset.filter(status=SuspensionOrder.Status.ACTIVE):
            try:
                services.lift_suspension(
                    actor=_actor(request), order=order, reason=form.cleaned_data["reason"]
                )
                lifted += 1
            except (PermissionDenied, ValidationError, Conflict) as exc:
                self.message_user(request, f"{order}: {refusal(exc)[1]}", messages.ERROR)
        self.message_user(request, f"Lifted {lifted} suspension(s).", messages.SUCCESS)
        return None


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin[Component]):
    """The inventory as history: kept by the owning unit in the product, read here."""

    list_display = ["system", "name", "version", "kind", "source", "added_at", "removed_at"]
    list_filter = ["kind", "source", "scheme"]
    search_fields = ["system__code", "package", "identifier"]
    list_select_related = ["system"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SbomUpload)
class SbomUploadAdmin(ComponentAdmin):
    list_display = ["system", "subject", "spec_version", "entries", "uploaded_by", "uploaded_at"]
    list_filter = ["spec_version"]
    search_fields = ["system__code", "subject", "sha256"]
    list_select_related = ["system", "uploaded_by"]


@admin.register(NetworkIdentity)
class NetworkIdentityAdmin(SimpleHistoryAdmin):
    list_display = ["system", "kind", "value", "valid_from", "valid_to"]
    list_filter = ["kind"]
    search_fields = ["system__code", "value"]
    list_select_related = ["system"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
