"""Read-only admin over the audit trail: nobody adds, changes or deletes events here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit import policy, sentences
from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ["sequence", "occurred_at", "sentence", "verb"]
    list_filter = ["verb", "office", "target_type"]
    search_fields = ["verb", "actor_label", "target_label", "target_id"]
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    list_select_related = ["actor"]
    show_full_result_count = False  # a COUNT(*) over millions of rows on every page is waste

    @admin.display(description=_("Event"))
    def sentence(self, event: AuditEvent) -> str:
        return sentences.sentence(event)

    def get_queryset(self, request: HttpRequest) -> Any:
        return policy.visible_events(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.visible_events(request.user).exists() or super().has_view_permission(
            request, obj
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
