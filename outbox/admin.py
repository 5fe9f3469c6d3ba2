"""The outbox in Django admin: read-only, with what is owed first and a way to relay it again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_stubs_ext import StrOrPromise

from outbox import relay
from outbox.models import Message


class OwedFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[str, StrOrPromise]]:
        return [("owed", _("Owed")), ("stuck", _("Stuck")), ("done", _("Done"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> QuerySet[Message]:
        if self.value() == "owed":
            return queryset.filter(done_at__isnull=True)
        if self.value() == "stuck":
            return queryset.filter(done_at__isnull=True, publish_count__gte=relay.MAX_PUBLISHES)
        if self.value() == "done":
            return queryset.filter(done_at__isnull=False)
        return queryset


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["pk", "task", "created_at", "published_at", "publish_count", "done_at"]
    list_filter = [OwedFilter, "task"]
    search_fields = ["task"]
    date_hierarchy = "created_at"
    actions = ["relay_again"]
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False

    @admin.action(description=_("Relay again (publish to the broker now)"), permissions=["view"])
    def relay_again(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        sent = relay.release(list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d message published.", "%(count)d messages published.", sent)
            % {"count": sent},
            messages.SUCCESS if sent else messages.WARNING,
        )
