"""Reads of quality control, scoped to the reader: projects, their reports, reviews, decisions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from actions import policy as actions_policy
from actions.models import Action
from quality import policy
from quality.models import Project, QualityFlag, QualityReport, ReleaseDecision, Review, Threshold


def projects_for(user: Any) -> QuerySet[Project]:
    return policy.visible_projects(user).select_related("unit", "system")


def _seen(user: Any, project: Project) -> QuerySet[Project]:
    """The project, if the reader sees it: the scope every read of its records goes through."""
    return policy.visible_projects(user).filter(pk=project.pk)


def _reports(seen: QuerySet[Project]) -> QuerySet[QualityReport]:
    return QualityReport.objects.filter(project__in=seen).select_related(
        "submitted_by", "corrected_by"
    )


def _became(field: str) -> Prefetch[Any]:
    """The actions a review's findings or a release's conditions became, soonest due first."""
    return Prefetch(field, queryset=Action.objects.order_by("due_on", "pk"))


def _reviews(seen: QuerySet[Project]) -> QuerySet[Review]:
    return (
        Review.objects.filter(project__in=seen)
        .select_related("reviewer")
        .prefetch_related(_became("findings"))
    )


def _decisions(seen: QuerySet[Project]) -> QuerySet[ReleaseDecision]:
    return (
        ReleaseDecision.objects.filter(project__in=seen)
        .select_related("decided_by")
        .prefetch_related(_became("conditions"))
    )


def reports_for(user: Any, project: Project) -> QuerySet[QualityReport]:
    """A project's reports, for one who sees it."""
    return _reports(_seen(user, project))


def report_of(user: Any, project: Project, period: str) -> QualityReport | None:
    """The report of the month a URL names as YYYY-MM, for one who sees the project; None for
    anything else."""
    try:
        month = dt.datetime.strptime(period, "%Y-%m").date()
    except ValueError:
        return None
    return reports_for(user, project).filter(period=month).first()


def reviews_for(user: Any, project: Project) -> QuerySet[Review]:
    return _reviews(_seen(user, project))


def release_decisions_for(user: Any, project: Project) -> QuerySet[ReleaseDecision]:
    return _decisions(_seen(user, project))


@dataclass(frozen=True)
class ProjectRecord:
    """What a project's page shows of it, read under one check of who sees the project."""

    reports: list[QualityReport]  # oldest first, the order of the Earned Value chart
    reviews: list[Review]  # newest first
    decisions: list[ReleaseDecision]  # newest first
    actions: list[Action]  # the work its reviews and release gate created, soonest due first
    openable: set[int]  # which of those actions the reader may open
    flag: QualityFlag | None


def project_record(user: Any, project: Project) -> ProjectRecord:
    """A project's reports, reviews, release decisions, the actions they created (a reviewer
    follows up their findings, so anyone who sees the project sees them) and its open flag."""
    seen = _seen(user, project)
    return ProjectRecord(
        reports=list(_reports(seen).order_by("period")),
        reviews=list(_reviews(seen).order_by("-recorded_at", "-pk")),
        decisions=list(_decisions(seen).order_by("-decided_at", "-pk")),
        actions=list(
            Action.objects.filter(origin_project__in=seen)
            .select_related("unit")
            .order_by("due_on", "pk")
        ),
        openable=set(
            actions_policy.visible_actions(user)
            .filter(origin_project=project)
            .values_list("pk", flat=True)
        ),
        flag=QualityFlag.objects.filter(project__in=seen, cleared_at__isnull=True).first(),
    )


def open_flag(project: Project) -> QualityFlag | None:
    return project.flags.filter(cleared_at__isnull=True).first()


def thresholds() -> QuerySet[Threshold]:
    """Everyone signed in may read how projects are rated."""
    return Threshold.objects.select_related("updated_by")
