"""Admin for vulnerabilities: deadlines edited through the service, the rest read-only records;
findings confirmed, scans rerun and discovered assets dismissed through the services' admin
actions."""

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
    DiscoveredAsset,
    ExposedService,
    FeedImport,
    Finding,
    RemediationDeadline,
    Scan,
    ScanHost,
    Sighting,
    Vulnerability,
)
from vulnerabilities.services import deadlines, scans, surface
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


class ScanHostInline(admin.TabularInline[ScanHost, Scan]):
    model = ScanHost
    extra = 0
    can_delete = False
    fields = ["ref", "addresses", "hostnames", "up", "system", "placed_by", "observations"]
    readonly_fields = ["ref", "addresses", "hostnames", "up", "system", "placed_by", "observations"]
    max_num = 0
    show_change_link = False


@admin.register(Scan)
class ScanAdmin(RecordAdmin):
    list_display = ["uploaded_at", "format", "file_name", "system", "state", "uploaded_by"]
    list_filter = ["format", "state"]
    search_fields = ["file_name", "sha256", "system__code"]
    list_select_related = ["system", "uploaded_by"]
    inlines = [ScanHostInline]
    actions = ["import_now"]

    @admin.action(description=gettext_lazy("Import the selected queued scans now"))
    def import_now(self, request: HttpRequest, queryset: QuerySet[Scan]) -> None:
        """For a queue whose worker is down: the same import the worker runs."""
        done = 0
        for scan in queryset.filter(state__in=[Scan.State.QUEUED, Scan.State.RUNNING]):
            done += scans.run(scan_id=scan.pk).state == Scan.State.DONE
        self.message_user(request, _("%(count)s scan(s) imported.") % {"count": done})


@admin.register(Sighting)
class SightingAdmin(RecordAdmin):
    list_display = ["finding", "scan", "severity", "outcome", "affected"]
    list_filter = ["outcome", "severity"]
    list_select_related = ["finding", "scan"]
    raw_id_fields = ["finding", "scan"]


@admin.register(ExposedService)
class ExposedServiceAdmin(RecordAdmin):
    list_display = ["address", "protocol", "port", "name", "system", "asset", "closed_at"]
    list_filter = ["protocol"]
    search_fields = ["address", "name", "product"]
    list_select_related = ["system", "asset"]


@admin.register(DiscoveredAsset)
class DiscoveredAssetAdmin(RecordAdmin):
    list_display = ["address", "state", "due_on", "unit", "system", "last_seen_at"]
    list_filter = ["state"]
    search_fields = ["address", "hostnames"]
    list_select_related = ["unit", "system"]
    actions = ["dismiss_not_ours"]

    @admin.action(description=gettext_lazy("Dismiss the selected assets as not ours"))
    def dismiss_not_ours(self, request: HttpRequest, queryset: QuerySet[DiscoveredAsset]) -> None:
        """The CISO's office, through the same service as the pages (others are refused)."""
        done = 0
        for asset in queryset.order_by("pk"):
            try:
                surface.dismiss(
                    actor=_actor(request),
                    asset=asset,
                    reason=DiscoveredAsset.Reason.NOT_OURS,
                    note=_("Dismissed from the admin."),
                )
                done += 1
            except (PermissionDenied, ValidationError, Conflict) as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
        self.message_user(request, _("%(count)s asset(s) dismissed.") % {"count": done})
