"""Admin for people, units, offices, delegations and API tokens; their writes go through services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin

from accounts import services
from accounts.models import BusinessUnit, Delegation, Membership, Office, User
from config import dates
from config.pages import refusal


def _actor(request: HttpRequest) -> User:
    # The admin is behind login and MFA: its requests always carry a signed-in User.
    return cast(User, request.user)


class MembershipInline(admin.TabularInline[Membership, Any]):
    model = Membership
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Profile", {"fields": ("display_name", "language")}))  # type: ignore[misc]
    list_display = ["username", "display_name", "email", "is_active", "is_staff"]
    inlines = [MembershipInline]
    formfield_overrides = dates.ADMIN_FORMFIELDS  # last login, date joined

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: the audit trail keeps its actors

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        before = set(
            Membership.objects.filter(user=form.instance).values_list("unit_id", flat=True)
        )
        super().save_related(request, form, formsets, change)
        after = set(Membership.objects.filter(user=form.instance).values_list("unit_id", flat=True))
        for unit in BusinessUnit.objects.filter(pk__in=before | after):
            services.sync_unit_group(unit=unit)


@admin.register(BusinessUnit)
class BusinessUnitAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "parent", "head", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent", "head"]
    list_select_related = ["parent", "head"]
    readonly_fields = ["group"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.sync_unit_group(unit=form.instance)


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "unit", "kind"]
    list_filter = ["kind", "unit"]
    search_fields = ["user__username", "unit__code"]
    autocomplete_fields = ["user", "unit"]
    list_select_related = ["user", "unit"]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        previous_unit = Membership.objects.filter(pk=obj.pk).values_list("unit", flat=True).first()
        super().save_model(request, obj, form, change)
        unit_ids = {pk for pk in (obj.unit_id, previous_unit) if pk is not None}
        for unit in BusinessUnit.objects.filter(pk__in=unit_ids):
            services.sync_unit_group(unit=unit)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        unit = obj.unit
        super().delete_model(request, obj)
        services.sync_unit_group(unit=unit)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        units = list(BusinessUnit.objects.filter(memberships__in=queryset).distinct())
        super().delete_queryset(request, queryset)
        for unit in units:
            services.sync_unit_group(unit=unit)


@admin.register(Office)
class OfficeAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "domain", "holder"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["holder"]
    list_select_related = ["holder"]

    def save_model(self, request: HttpRequest, obj: Office, form: Any, change: bool) -> None:
        holder = obj.holder
        if "holder" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        # The holder is an authority fact: it goes through the service and is audited.
        obj.holder = Office.objects.get(pk=obj.pk).holder if change else None
        super().save_model(request, obj, form, change)
        # A refusal rolls the whole save back and shows on the form (config/admin_site.py).
        services.assign_office_holder(actor=_actor(request), office=obj, holder=holder)


@admin.register(Delegation)
class DelegationAdmin(SimpleHistoryAdmin):
    list_display = ["office", "delegate", "starts_at", "ends_at", "revoked_at", "reason"]
    formfield_overrides = dates.ADMIN_FORMFIELDS
    list_filter = ["office"]
    autocomplete_fields = ["delegate"]
    list_select_related = ["office", "delegate"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["created_by", "created_at", "revoked_at"]
        if obj is not None:  # a delegation is never edited in place: revoke and delegate anew
            fields += ["office", "delegate", "starts_at", "ends_at", "reason"]
        return fields

    def save_model(self, request: HttpRequest, obj: Delegation, form: Any, change: bool) -> None:
        if change:
            return
        created = services.delegate_office(
            actor=_actor(request),
            office=obj.office,
            delegate=obj.delegate,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
            reason=obj.reason,
        )
        obj.pk = created.pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected delegations now")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Delegation]) -> None:
        done = 0
        for delegation in queryset.filter(revoked_at__isnull=True):
            try:
                services.revoke_delegation(
                    actor=_actor(request), delegation=delegation, reason="Revoked in admin"
                )
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{delegation}: {refusal(exc)[1]}", messages.ERROR)
        self.message_user(request, f"Revoked {done} delegation(s).", messages.SUCCESS)


class IssueTokenForm(forms.Form):
    """What an administrator chooses for a new token: whose it is and how long it lives."""

    user = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True).order_by("username"))
    days = forms.IntegerField(
        min_value=1,
        max_value=services.MAX_TOKEN_DAYS,
        initial=services.DEFAULT_TOKEN_DAYS,
        help_text=_("Every token expires; issue a new one before it does."),
    )


# knox registers an admin whose add form takes any expiry, none included, and shows the secret
# in a flash message (kept in the session and the messages storage); this one replaces it.
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(admin.ModelAdmin[AuthToken]):
    """API tokens: issued and revoked only through the services, so both are audited; the
    secret is shown once, on a page of its own that no cache keeps."""

    list_display = ["token_key", "user", "created", "expiry"]
    search_fields = ["token_key", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["token_key", "user", "created", "expiry"]
    fields = ["token_key", "user", "created", "expiry"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a token is issued or revoked, never edited

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = IssueTokenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                instance, secret = services.issue_api_token(
                    actor=_actor(request),
                    user=form.cleaned_data["user"],
                    days=form.cleaned_data["days"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                page = TemplateResponse(
                    request,
                    "admin/accounts/token_issued.html",
                    {
                        **self.admin_site.each_context(request),
                        "opts": self.opts,
                        "token": instance,
                        "secret": secret,
                        "title": _("API token issued"),
                    },
                )
                page["Cache-Control"] = "no-store"
                return page
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": _("Issue an API token"),
            **(extra_context or {}),
        }
        return TemplateResponse(
            request, "admin/accounts/token_issue.html", context, status=400 if form.errors else 200
        )

    def delete_model(self, request: HttpRequest, obj: AuthToken) -> None:
        services.revoke_api_token(actor=_actor(request), token=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AuthToken]) -> None:
        for token in queryset.select_related("user"):
            services.revoke_api_token(actor=_actor(request), token=token)
