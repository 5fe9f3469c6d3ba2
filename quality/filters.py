"""Filters over development projects, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from quality.models import Phase, Project, QualityFlag, Rag

# The query string cannot carry an empty rating, so "not rated" has a word of its own.
UNRATED = "unrated"
RAG_CHOICES = [
    (Rag.GREEN.value, Rag.GREEN.label),
    (Rag.AMBER.value, Rag.AMBER.label),
    (Rag.RED.value, Rag.RED.label),
    (UNRATED, Rag.UNRATED.label),
]


def open_flags() -> QuerySet[QualityFlag]:
    """A project's open flag, as a subquery on the project's row (for Exists)."""
    return QualityFlag.objects.filter(project=OuterRef("pk"), cleared_at__isnull=True)


class ProjectFilter(django_filters.FilterSet):
    """?unit=PUBSEC&phase=test&rag=red&handles_personal_data=true&system=cert-issuance&q=wiki"""

    unit = django_filters.CharFilter(field_name="unit__code", label=_("Business unit"))
    system = django_filters.CharFilter(field_name="system__code", label=_("System"))
    phase = django_filters.ChoiceFilter(
        choices=Phase.choices, label=_("Phase"), empty_label=_("Any")
    )
    rag = django_filters.ChoiceFilter(
        choices=RAG_CHOICES, method="filter_rag", label=_("Rating"), empty_label=_("Any")
    )
    handles_personal_data = django_filters.BooleanFilter(label=_("Personal data"))
    flagged = django_filters.BooleanFilter(method="filter_flagged", label=_("Flagged"))
    q = django_filters.CharFilter(method="filter_q", label=_("Reference or name contains"))

    class Meta:
        model = Project
        fields = ["unit", "system", "phase", "rag", "handles_personal_data", "flagged", "q"]

    def filter_rag(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        return queryset.filter(rag=Rag.UNRATED if value == UNRATED else value)

    def filter_flagged(
        self, queryset: QuerySet[Project], name: str, value: bool
    ) -> QuerySet[Project]:
        flagged = Exists(open_flags())
        return queryset.filter(flagged) if value else queryset.exclude(flagged)

    def filter_q(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(reference__icontains=value) | Q(name__icontains=value))
