"""The filters people use on lists of actions and directives, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Domain
from actions import policy
from actions.models import Action, Directive
from config import dates
from config.filters import ANY, PageFilterSet, several, unit_filter


class ActionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Action.Status.choices, label=_("Status"))
    domain = django_filters.ChoiceFilter(choices=Domain.choices, label=_("Domain"))
    priority = django_filters.ChoiceFilter(choices=Action.Priority.choices, label=_("Priority"))
    unit = django_filters.CharFilter(field_name="unit__code", label=_("Unit code"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Assigned to me"))
    my_unit = django_filters.BooleanFilter(method="filter_my_unit", label=_("My units' actions"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))
    # A person's share of the work, as the unit's workload page links to it.
    assignee = django_filters.CharFilter(field_name="assignee__username", label=_("Assignee"))
    unassigned = django_filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label=_("Unassigned")
    )
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


# --- The pages' filters: the API's, as a reader picks them -----------------------------------

# Chasing raises an action one rung at a time (actions.chasing); the levels are these four,
# named as the committee's agenda names them.
ESCALATION_LEVELS = [
    (level, format_lazy("{} — {}", level, name))
    for level, name in enumerate(
        [_("Not escalated"), _("Unit head"), _("Owning office"), _("Committee")]
    )
]


class ActionListFilter(PageFilterSet, ActionFilter):
    """The action list: unit, status, domain, priority, due date and escalation; the quick views
    (mine, my units', overdue) are tabs above it, and a person's share (assignee, unassigned)
    is a link from the unit's workload: those ride along as hidden fields."""

    order = (
        "unit",
        "status",
        "domain",
        "priority",
        "due_before",
        "escalation_level",
        "escalation_level_min",
    )
    unit = unit_filter(policy.visible_actions)
    status = several(Action.Status.choices, label=_("Status"))
    priority = several(Action.Priority.choices, label=_("Priority"))
    escalation_level = django_filters.TypedChoiceFilter(
        choices=[("", ANY), *ESCALATION_LEVELS], coerce=int, label=_("Escalation level")
    )
    escalation_level_min = django_filters.TypedChoiceFilter(
        choices=[("", ANY), *ESCALATION_LEVELS],
        coerce=int,
        field_name="escalation_level",
        lookup_expr="gte",
        label=_("Escalation level at least"),
    )


class DirectiveListFilter(PageFilterSet, DirectiveFilter):
    """The directive list: status (several at once) and domain."""

    status = several(Directive.Status.choices, label=_("Status"))
