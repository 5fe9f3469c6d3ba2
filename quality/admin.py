"""Admin for quality control: projects are registered and moved on, and thresholds set, through
the services; reports, reviews, release decisions and flags are records, read here."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import User
from config import dates
from config.errors import Conflict, PreconditionFailed
from quality import services
from quality.models import (
    Project,
    QualityFlag,
    QualityReport,
    ReleaseDecision,
    Review,
    Threshold,
)


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)  # the admin is behind login and MFA


class RecordAdmin(SimpleHistoryAdmin):
    """What a service wrote and nobody edits: readable, never changed or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(SimpleHistoryAdmin):
    list_display = [
        "reference",
        "name",
        "unit",
        "system",
        "phase",
        "handles_personal_data",
        "rag",
        "planned_finish",
    ]
    list_filter = ["phase", "rag", "handles_personal_data", "unit"]
    search_fields = ["reference", "name", "system__code"]
    list_select_related = ["unit", "system"]
    autocomplete_fields = ["unit", "system"]
    formfield_overrides = dates.ADMIN_FORMFIELDS
    fields = [
        "name",
        "unit",
        "system",
        "description",
        "handles_personal_data",
        "planned_budget",
        "planned_start",
        "planned_finish",
        "size_unit",
    ]
    show_full_result_count = False
    actions = ["advance"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Registered here through the service; afterwards it moves by its phases only.
        return [] if obj is None else [f.name for f in Project._meta.fields]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields if obj is None else [f.name for f in Project._meta.fields]

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        if change:
            return
        created = services.register_project(
            actor=_actor(request),
            unit=obj.unit,
            system=obj.system,
            name=obj.name,
            description=obj.description,
            handles_personal_data=obj.handles_personal_data,
            planned_budget=obj.planned_budget,
            planned_start=obj.planned_start,
            planned_finish=obj.planned_finish,
            size_unit=obj.size_unit,
        )
        obj.pk = created.pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a project is kept, with its reports and decisions

    @admin.action(description="Move the selected projects to their next phase")
    def advance(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        moved = 0
        for project in queryset:
            try:
                services.advance_phase(actor=_actor(request), project=project)
                moved += 1
            except (PermissionDenied, ValidationError, Conflict, PreconditionFailed) as exc:
                detail = "; ".join(exc.messages) if isinstance(exc, ValidationError) else exc
                self.message_user(request, f"{project.reference}: {detail}", messages.ERROR)
        self.message_user(request, f"Moved {moved} project(s) on.", messages.SUCCESS)


@admin.register(Threshold)
class ThresholdAdmin(SimpleHistoryAdmin):
    list_display = ["indicator", "green", "red", "updated_by", "updated_at"]
    fields = ["indicator", "green", "red"]
    list_select_related = ["updated_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else ["indicator"]

    def save_model(self, request: HttpRequest, obj: Threshold, form: Any, change: bool) -> None:
        saved = services.set_threshold(
            actor=_actor(request), indicator=obj.indicator, green=obj.green, red=obj.red
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(QualityReport)
class QualityReportAdmin(RecordAdmin):
    list_display = [
        "project",
        "period",
        "phase",
        "spi",
        "cpi",
        "rag",
        "submitted_by",
        "corrected_at",
    ]
    list_filter = ["rag", "phase"]
    search_fields = ["project__reference", "project__name"]
    list_select_related = ["project", "submitted_by"]
    show_full_result_count = False


@admin.register(Review)
class ReviewAdmin(RecordAdmin):
    list_display = ["project", "phase", "verdict", "reviewer", "recorded_at"]
    list_filter = ["verdict", "phase"]
    search_fields = ["project__reference", "summary"]
    list_select_related = ["project", "reviewer"]


@admin.register(ReleaseDecision)
class ReleaseDecisionAdmin(RecordAdmin):
    list_display = ["project", "outcome", "rag_at_decision", "decided_office", "decided_at"]
    list_filter = ["outcome", "decided_office"]
    search_fields = ["project__reference", "reason", "override_reason"]
    list_select_related = ["project"]


@admin.register(QualityFlag)
class QualityFlagAdmin(admin.ModelAdmin):
    list_display = ["project", "raised_at", "red", "trending", "cleared_at"]
    list_filter = ["cleared_at"]
    search_fields = ["project__reference"]
    list_select_related = ["project"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
