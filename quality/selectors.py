"""Reads of quality control, scoped to the reader: projects, their reports, reviews, decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from actions import policy as actions_policy
from actions.models import Action
from quality import policy
from quality.models import Project, QualityFlag, QualityReport, ReleaseDecision, Review, Threshold


def projects_for(user: Any) -> QuerySet[Project]:
    return policy.visible_projects(user).select_related("unit", "system")


def reports_for(user: Any, project: Project) -> QuerySet[QualityReport]:
    """A project's reports, oldest first (the order of the EVM chart), for one who sees it."""
    visible = policy.visible_projects(user).filter(pk=project.pk)
    return QualityReport.objects.filter(project__in=visible).select_related(
        "submitted_by", "corrected_by"
    )


def report_of(user: Any, project: Project, period: str) -> QualityReport | None:
    """The report of the month a URL names as YYYY-MM, for one who sees the project; None for
    anything else."""
    try:
        month = dt.datetime.strptime(period, "%Y-%m").date()
    except ValueError:
        return None
    return reports_for(user, project).filter(period=month).first()


def reviews_for(user: Any, project: Project) -> QuerySet[Review]:
    visible = policy.visible_projects(user).filter(pk=project.pk)
    return Review.objects.filter(project__in=visible).select_related("reviewer")


def release_decisions_for(user: Any, project: Project) -> QuerySet[ReleaseDecision]:
    visible = policy.visible_projects(user).filter(pk=project.pk)
    return ReleaseDecision.objects.filter(project__in=visible).select_related("decided_by")


def project_actions(user: Any, project: Project) -> tuple[QuerySet[Action], set[int]]:
    """The work a project's reviews and release gate created, for anyone who sees the project
    (a reviewer follows up their findings), and which of it the reader may open."""
    created = Action.objects.filter(
        origin_project__in=policy.visible_projects(user).filter(pk=project.pk)
    )
    openable = set(
        actions_policy.visible_actions(user)
        .filter(origin_project=project)
        .values_list("pk", flat=True)
    )
    return created.select_related("unit").order_by("due_on", "pk"), openable


def open_flag(project: Project) -> QualityFlag | None:
    return project.flags.filter(cleared_at__isnull=True).first()


def thresholds() -> QuerySet[Threshold]:
    """Everyone signed in may read how projects are rated."""
    return Threshold.objects.select_related("updated_by")
