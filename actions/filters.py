"""The filters people use on lists of actions and directives, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Domain
from actions.models import Action, Directive
from config import dates


class ActionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Action.Status.choices, label=_("Status"))
    domain = django_filters.ChoiceFilter(choices=Domain.choices, label=_("Domain"))
    priority = django_filters.ChoiceFilter(choices=Action.Priority.choices, label=_("Priority"))
    unit = django_filters.CharFilter(field_name="unit__code", label=_("Unit code"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Assigned to me"))
    my_unit = django_filters.BooleanFilter(method="filter_my_unit", label=_("My units' actions"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))
    due_before = dates.DayFilter(field_name="due_on", lookup_expr="lt", label=_("Due before"))
    escalation_level = django_filters.NumberFilter(label=_("Escalation level"))
    escalation_level_min = django_filters.NumberFilter(
        field_name="escalation_level", lookup_expr="gte", label=_("Escalation level at least")
    )

    class Meta:
        model = Action
        fields = ["unit", "status", "domain", "priority", "escalation_level"]

    def filter_mine(self, queryset: QuerySet[Action], name: str, value: bool) -> QuerySet[Action]:
        user = self.request.user if self.request else None
        return queryset.filter(assignee=user) if value else queryset.exclude(assignee=user)

    def filter_my_unit(
        self, queryset: QuerySet[Action], name: str, value: bool
    ) -> QuerySet[Action]:
        user = self.request.user if self.request else None
        mine = Q(unit__memberships__user=user) | Q(unit__head=user)
        return queryset.filter(mine).distinct() if value else queryset.exclude(mine)

    def filter_overdue(
        self, queryset: QuerySet[Action], name: str, value: bool
    ) -> QuerySet[Action]:
        overdue = queryset.overdue(timezone.localdate())  # type: ignore[attr-defined]
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))


class DirectiveFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Directive.Status.choices, label=_("Status"))
    domain = django_filters.ChoiceFilter(choices=Domain.choices, label=_("Domain"))

    class Meta:
        model = Directive
        fields = ["status", "domain"]
