"""Admin for incidents, risks and the risk matrix; lifecycle moves go through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import User
from cases import services
from cases.models import Incident, RecurrenceMeasure, Risk, RiskMatrixCell, TimelineEntry
from config import dates
from config.errors import Conflict


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)  # the admin is behind login and MFA


class TimelineInline(admin.TabularInline[TimelineEntry, Incident]):
    model = TimelineEntry
    extra = 0
    can_delete = False
    fields = ["at", "author", "kind", "text", "from_value", "to_value"]
    readonly_fields = ["at", "author", "kind", "text", "from_value", "to_value"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MeasureInline(admin.StackedInline[RecurrenceMeasure, Incident]):
    model = RecurrenceMeasure
    extra = 0
    can_delete = False
    fields = ["description", "criteria", "created_by", "created_at"]
    readonly_fields = ["description", "criteria", "created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _move(request: HttpRequest, queryset: QuerySet[Incident], act: str, label: str) -> None:
    done = 0
    for incident in queryset:
        try:
            services.transition_incident(
                actor=_actor(request), incident=incident, act=act, note=f"{label} in the admin."
            )
            done += 1
        except (PermissionDenied, ValidationError) as exc:
            messages.error(
                request, f"{incident.reference}: {'; '.join(getattr(exc, 'messages', [str(exc)]))}"
            )
    if done:
        messages.success(request, f"{label}: {done} incident(s).")


@admin.register(Incident)
class IncidentAdmin(SimpleHistoryAdmin):
    list_display = ["reference", "title", "unit", "severity", "category", "status", "reported_at"]
    list_filter = ["status", "severity", "category", "domain", "personal_data_involved", "unit"]
    search_fields = ["reference", "title", "description"]
    list_select_related = ["unit"]
    date_hierarchy = "reported_at"
    readonly_fields = [
        "reference",
        "domain",
        "unit",
        "reporter",
        "status",
        "severity",
        "reported_at",
        "detected_at",
        "occurred_at",
        "closed_at",
        "created_at",
        "updated_at",
    ]
    fields = [
        "reference",
        "title",
        "description",
        "category",
        "domain",
        "unit",
        "reporter",
        "severity",
        "status",
        "occurred_at",
        "detected_at",
        "reported_at",
        "personal_data_involved",
        "root_cause",
        "closed_at",
    ]
    inlines = [TimelineInline, MeasureInline]
    actions = ["triage", "investigate", "contain", "resolve", "close"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # incidents are reported by units (pages or API), through report_incident

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Incident, form: Any, change: bool) -> None:
        changes = {
            f: form.cleaned_data[f] for f in form.changed_data if f in services.INCIDENT_EDITABLE
        }
        services.update_incident(actor=_actor(request), incident=obj, **changes)

    @admin.action(description="Triage")
    def triage(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        _move(request, queryset, "triage", "Triaged")

    @admin.action(description="Start investigating")
    def investigate(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        _move(request, queryset, "investigate", "Investigating")

    @admin.action(description="Mark contained")
    def contain(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        _move(request, queryset, "contain", "Contained")

    @admin.action(description="Mark resolved")
    def resolve(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        _move(request, queryset, "resolve", "Resolved")

    @admin.action(description="Close (needs root cause and a measure)")
    def close(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        _move(request, queryset, "close", "Closed")


@admin.register(Risk)
class RiskAdmin(SimpleHistoryAdmin):
    list_display = [
        "reference",
        "title",
        "unit",
        "owner",
        "inherent_level",
        "residual_level",
        "residual_score",
        "above_appetite",
        "status",
        "next_review_on",
    ]
    list_filter = ["status", "residual_level", "above_appetite", "domain", "treatment", "unit"]
    search_fields = ["reference", "title"]
    list_select_related = ["unit", "owner"]
    readonly_fields = [
        "reference",
        "domain",
        "unit",
        "owner",
        "status",
        "inherent_score",
        "inherent_level",
        "residual_score",
        "residual_level",
        "above_appetite",
        "next_review_on",
    ]
    show_full_result_count = False
    actions = ["assess", "treat", "monitor", "retire"]
    formfield_overrides = dates.ADMIN_FORMFIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # risks are registered through register_risk (pages or API)

    def _move(self, request: HttpRequest, queryset: QuerySet[Risk], act: str) -> None:
        done = 0
        for risk in queryset:
            try:
                services.transition_risk(actor=_actor(request), risk=risk, act=act)
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                messages.error(
                    request, f"{risk.reference}: {'; '.join(getattr(exc, 'messages', [str(exc)]))}"
                )
        if done:
            messages.success(request, f"{act}: {done} risk(s).")

    @admin.action(description="Mark assessed")
    def assess(self, request: HttpRequest, queryset: QuerySet[Risk]) -> None:
        self._move(request, queryset, "assess")

    @admin.action(description="Start treating")
    def treat(self, request: HttpRequest, queryset: QuerySet[Risk]) -> None:
        self._move(request, queryset, "treat")

    @admin.action(description="Monitor")
    def monitor(self, request: HttpRequest, queryset: QuerySet[Risk]) -> None:
        self._move(request, queryset, "monitor")

    @admin.action(description="Retire")
    def retire(self, request: HttpRequest, queryset: QuerySet[Risk]) -> None:
        self._move(request, queryset, "retire")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Risk, form: Any, change: bool) -> None:
        changes = {
            f: form.cleaned_data[f] for f in form.changed_data if f in services.RISK_EDITABLE
        }
        services.reassess_risk(actor=_actor(request), risk=obj, **changes)


@admin.register(RiskMatrixCell)
class RiskMatrixCellAdmin(SimpleHistoryAdmin):
    """The matrix is data a company may replace with its own; levels of existing risks follow
    at their next reassessment."""

    list_display = ["likelihood", "impact", "level", "review_days"]
    list_editable = ["level", "review_days"]
    list_filter = ["level"]
    ordering = ["-likelihood", "impact"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the grid is 5x5; cells are changed, never added

    def save_model(
        self, request: HttpRequest, obj: RiskMatrixCell, form: Any, change: bool
    ) -> None:
        services.set_matrix_cell(
            actor=_actor(request), cell=obj, level=obj.level, review_days=obj.review_days
        )


@admin.register(RecurrenceMeasure)
class RecurrenceMeasureAdmin(SimpleHistoryAdmin):
    list_display = ["incident", "description", "created_by", "created_at"]
    search_fields = ["incident__reference", "description"]
    list_select_related = ["incident", "created_by"]
    readonly_fields = ["incident", "description", "criteria", "created_by", "created_at"]
    actions = ["roll_out"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # measures are added on their incident (pages or API)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Roll out as a directive to every matching system (due in 30 days)")
    def roll_out(self, request: HttpRequest, queryset: QuerySet[RecurrenceMeasure]) -> None:
        deadline = timezone.localdate() + timedelta(days=30)
        for measure in queryset.select_related("incident"):
            try:
                directive = services.roll_out_measure(
                    actor=_actor(request), measure=measure, deadline=deadline
                )
                messages.success(
                    request, f"{directive.reference}: {directive.actions.count()} action(s)."
                )
            except (PermissionDenied, ValidationError, Conflict) as exc:
                messages.error(
                    request, f"{measure}: {'; '.join(getattr(exc, 'messages', [str(exc)]))}"
                )
