"""Admin for actions: read what a unit reported; lifecycle and re-planning go through the services."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import User
from actions import services
from actions.models import Action, ActionUpdate, Directive, Evidence
from config.errors import Conflict
from config.pages import refusal


class UpdateInline(admin.TabularInline[ActionUpdate, Action]):
    model = ActionUpdate
    extra = 0
    can_delete = False
    fields = ["at", "author", "note", "percent_done", "new_status"]
    readonly_fields = ["at", "author", "note", "percent_done", "new_status"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Action)
class ActionAdmin(SimpleHistoryAdmin):
    list_display = [
        "reference",
        "title",
        "unit",
        "domain",
        "assignee",
        "due_on",
        "status",
        "escalation_level",
        "percent_done",
    ]
    list_filter = ["status", "domain", "priority", "escalation_level", "unit"]
    search_fields = ["reference", "title", "description"]
    list_select_related = ["unit", "assignee"]
    date_hierarchy = "due_on"
    inlines = [UpdateInline]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Status, owner, due date, domain and origin change only through the services.
        return [f.name for f in Action._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created through create_action (API, directives, roll-outs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin[Evidence]):
    list_display = ["name", "update", "size", "content_type", "sha256"]
    search_fields = ["name", "sha256"]
    list_select_related = ["update", "update__action"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Directive)
class DirectiveAdmin(SimpleHistoryAdmin):
    list_display = [
        "reference",
        "title",
        "domain",
        "deadline",
        "status",
        "issued_office",
        "issued_at",
    ]
    list_filter = ["status", "domain"]
    search_fields = ["reference", "title", "body"]
    list_select_related = ["issued_by"]
    actions = ["issue"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in Directive._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # drafted through draft_directive (API) or a measure's roll-out

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Issue the selected drafts (fans out one action each)")
    def issue(self, request: HttpRequest, queryset: QuerySet[Directive]) -> None:
        for directive in queryset:
            try:
                issued = services.issue_directive(
                    actor=cast(User, request.user), directive=directive
                )
                messages.success(
                    request, f"{issued.reference}: {issued.actions.count()} action(s)."
                )
            except (PermissionDenied, ValidationError, Conflict) as exc:
                messages.error(request, f"{directive.reference}: {refusal(exc)[1]}")
