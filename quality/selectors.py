"""Reads of quality control, scoped to the reader: projects, their reports, reviews, decisions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from quality import policy
from quality.models import Project, QualityFlag, QualityReport, ReleaseDecision, Review, Threshold


def projects_for(user: Any) -> QuerySet[Project]:
    return policy.visible_projects(user).select_related("unit", "system")


def reports_for(user: Any, project: Project) -> QuerySet[QualityReport]:
    """A project's reports, oldest first (the order of the EVM chart), for one who sees it."""
    visible = policy.visible_projects(user).filter(pk=project.pk)
    return QualityReport.objects.filter(project__in=visible).select_related("submitted_by")


def reviews_for(user: Any, project: Project) -> QuerySet[Review]:
    visible = policy.visible_projects(user).filter(pk=project.pk)
    return Review.objects.filter(project__in=visible).select_related("reviewer")


def release_decisions_for(user: Any, project: Project) -> QuerySet[ReleaseDecision]:
    visible = policy.visible_projects(user).filter(pk=project.pk)
    return ReleaseDecision.objects.filter(project__in=visible).select_related("decided_by")


def open_flag(project: Project) -> QualityFlag | None:
    return project.flags.filter(cleared_at__isnull=True).first()


def thresholds() -> QuerySet[Threshold]:
    """Everyone signed in may read how projects are rated."""
    return Threshold.objects.select_related("updated_by")
