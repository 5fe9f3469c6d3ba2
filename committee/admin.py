"""Admin for committees and meetings: configuration is edited here, meeting acts go through the
services, and decisions, minutes and attendance are read-only records."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import User
from committee import services
from committee.models import (
    AgendaItem,
    Attendance,
    Ballot,
    CadenceException,
    CalendarFeed,
    Committee,
    CommitteeMember,
    Decision,
    Meeting,
    Minutes,
    WrittenResolution,
)
from committee.services.scheduling import schedule_committee
from config import dates
from config.errors import Conflict


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)  # the admin is behind login and MFA


def _refusal(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(getattr(exc, "message", exc))


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CommitteeMemberInline(admin.TabularInline):
    model = CommitteeMember
    extra = 0
    autocomplete_fields = ["person"]


class CadenceExceptionInline(ReadOnlyInline):
    model = CadenceException
    fields = readonly_fields = ("occurrence_date", "kind", "moved_to", "reason", "created_by")


@admin.register(Committee)
class CommitteeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "chair_office", "cadence", "time_zone", "agenda_lead_days", "is_active"]
    formfield_overrides = dates.ADMIN_FORMFIELDS
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["secretariat"]
    inlines = [CommitteeMemberInline, CadenceExceptionInline]
    actions = ["schedule_now"]

    @admin.action(description="Schedule the next three months of meetings now")
    def schedule_now(self, request: HttpRequest, queryset: QuerySet[Committee]) -> None:
        created = sum(schedule_committee(committee)[0] for committee in queryset)
        self.message_user(request, f"{created} meeting(s) scheduled.")


class AgendaItemInline(ReadOnlyInline):
    model = AgendaItem
    fields = readonly_fields = (
        "position",
        "kind",
        "title",
        "unit",
        "added_by",
        "removed_at",
        "discussed_at",
    )
    ordering = ["position"]


class AttendanceInline(ReadOnlyInline):
    model = Attendance
    fields = readonly_fields = (
        "person",
        "office",
        "kind",
        "is_chair",
        "status",
        "delegate",
        "note",
    )


@admin.register(Meeting)
class MeetingAdmin(SimpleHistoryAdmin):
    list_display = ["title", "committee", "starts_at", "status", "sequence", "chair"]
    list_filter = ["status", "committee"]
    list_select_related = ["committee", "chair"]
    date_hierarchy = "starts_at"
    search_fields = ["title"]
    readonly_fields = [
        "committee",
        "title",
        "starts_at",
        "ends_at",
        "cadence_date",
        "location",
        "status",
        "ical_uid",
        "sequence",
        "chair",
        "chair_capacity",
        "published_at",
        "published_by",
        "held_at",
        "cancelled_at",
        "cancel_reason",
    ]
    inlines = [AgendaItemInline, AttendanceInline]
    actions = ["assemble", "publish"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # meetings come from the cadence (and its exceptions)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _each(self, request: HttpRequest, queryset: QuerySet[Meeting], act: Any, done: str) -> None:
        count = 0
        for meeting in queryset:
            try:
                act(actor=_actor(request), meeting=meeting)
                count += 1
            except (PermissionDenied, ValidationError, Conflict) as exc:
                self.message_user(request, f"{meeting}: {_refusal(exc)}", messages.ERROR)
        if count:
            self.message_user(request, f"{count} meeting(s) {done}.")

    @admin.action(description="Bring the draft agenda up to date")
    def assemble(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        self._each(request, queryset, services.assemble_agenda, "assembled")

    @admin.action(description="Publish the agenda and send the invitations")
    def publish(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        self._each(request, queryset, services.publish_agenda, "published")


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["reference", "meeting", "outcome", "effect", "chair", "recorded_at"]
    list_filter = ["outcome", "effect"]
    list_select_related = ["meeting", "chair"]
    search_fields = ["reference", "text"]


class BallotInline(ReadOnlyInline):
    model = Ballot
    fields = readonly_fields = (
        "seat",
        "person",
        "choice",
        "conflict_declared",
        "conflict_note",
        "cast_by",
        "cast_capacity",
        "cast_at",
        "notified_at",
    )


@admin.register(WrittenResolution)
class WrittenResolutionAdmin(ReadOnlyAdmin):
    """Opened by the chair and voted on in the application; here they are only read."""

    list_display = ["reference", "title", "committee", "status", "deadline", "decision"]
    list_filter = ["status", "effect"]
    list_select_related = ["committee", "decision"]
    search_fields = ["reference", "title", "text"]
    inlines = [BallotInline]


@admin.register(Minutes)
class MinutesAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "status", "version", "approved_by", "approved_at"]
    list_select_related = ["meeting", "approved_by"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    readonly_fields = ["user", "token_hash", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected feeds")
    def revoke(self, request: HttpRequest, queryset: QuerySet[CalendarFeed]) -> None:
        for feed in queryset:
            services.revoke_calendar_feed(actor=_actor(request), feed=feed)
        self.message_user(request, "Feeds revoked.")
