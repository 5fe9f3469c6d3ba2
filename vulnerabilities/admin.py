"""Admin for vulnerabilities: deadlines edited through the service, the rest read-only records;
findings set aside, accepted or confirmed through the services' admin actions."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import User
from config.errors import Conflict
from vulnerabilities.models import (
    Advisory,
    AffectedRange,
    Alias,
    FeedImport,
    Finding,
    RemediationDeadline,
    Vulnerability,
)
from vulnerabilities.services import deadlines
from vulnerabilities.services import findings as findings_service


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)  # the admin is behind login and MFA


class RecordAdmin(admin.ModelAdmin[Any]):
    """What an import or matching wrote and nobody edits: readable, never changed or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RemediationDeadline)
class RemediationDeadlineAdmin(SimpleHistoryAdmin):
    list_display = ["priority", "days", "updated_by", "updated_at"]
    fields = ["priority", "days"]
    readonly_fields = ["priority"]
    list_select_related = ["updated_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one row per priority, made by a migration

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: RemediationDeadline, form: Any, change: bool
    ) -> None:
        deadlines.set_deadline(actor=_actor(request), deadline=obj, days=obj.days)


class AliasInline(admin.TabularInline[Alias, Vulnerability]):
    model = Alias
    extra = 0
    can_delete = False
    readonly_fields = ["name"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Vulnerability)
class VulnerabilityAdmin(RecordAdmin):
    list_display = ["key", "severity", "cvss_score", "kev", "kev_due_on", "withdrawn_at"]
    list_filter = ["severity", "kev"]
    search_fields = ["key", "aliases__name", "summary"]
    inlines = [AliasInline]


class AffectedRangeInline(admin.TabularInline[AffectedRange, Advisory]):
    model = AffectedRange
    extra = 0
    can_delete = False
    readonly_fields = ["package", "vers", "review_only", "platforms", "rule"]
    fields = ["package", "vers", "review_only", "platforms", "rule"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Advisory)
class AdvisoryAdmin(RecordAdmin):
    list_display = ["source_id", "source", "vulnerability", "modified_at", "withdrawn_at"]
    list_filter = ["source"]
    search_fields = ["source_id", "vulnerability__key"]
    list_select_related = ["vulnerability"]
    inlines = [AffectedRangeInline]


@admin.register(FeedImport)
class FeedImportAdmin(RecordAdmin):
    list_display = ["started_at", "kind", "origin", "outcome", "started_by"]
    list_filter = ["kind", "outcome"]
    list_select_related = ["started_by"]


@admin.register(Finding)
class FindingAdmin(RecordAdmin):
    list_display = [
        "vulnerability",
        "system",
        "package",
        "version",
        "state",
        "severity",
        "priority",
        "due_on",
    ]
    list_filter = ["state", "severity", "priority"]
    search_fields = ["vulnerability__key", "system__code", "package"]
    list_select_related = ["vulnerability", "system"]
    actions = ["confirm_findings", "reopen_expired"]

    @admin.action(description=gettext_lazy("Confirm the selected findings to review"))
    def confirm_findings(self, request: HttpRequest, queryset: QuerySet[Finding]) -> None:
        done = 0
        for finding in queryset.filter(state=Finding.State.REVIEW).order_by("pk"):
            try:
                findings_service.confirm(actor=_actor(request), finding=finding)
                done += 1
            except (PermissionDenied, ValidationError, Conflict) as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
        self.message_user(request, _("%(count)s finding(s) confirmed.") % {"count": done})

    @admin.action(description=gettext_lazy("Reopen acceptances that have expired"))
    def reopen_expired(self, request: HttpRequest, queryset: QuerySet[Finding]) -> None:
        count = findings_service.reopen_expired_acceptances(today=dt.date.today())
        self.message_user(request, _("%(count)s acceptance(s) reopened.") % {"count": count})
