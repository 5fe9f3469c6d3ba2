"""Projects: registering one, and moving it through its phases under the review rule."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import BusinessUnit, User
from accounts.services import grant_to_unit
from audit import services as audit
from config import dates
from config.text import one_line
from config.versioning import check_version
from quality import policy
from quality.models import NEXT_PHASE, Phase, Project, Review
from systems import policy as systems_policy
from systems.models import System

# A project is planned within this many years of today, either way: one registered late has
# started already, and none is planned for the next century.
PLAN_REACH_YEARS = 10

FIGURES = (
    "planned_value",
    "earned_value",
    "actual_cost",
    "percent_complete",
    "tests_planned",
    "tests_run",
    "size",
    "defects_planning",
    "defects_design",
    "defects_build",
    "defects_test",
    "defects_release",
)


@dataclass(frozen=True)
class Work:
    """A finding of a review or a condition of a release: work for the project's unit."""

    title: str
    due_on: dt.date
    description: str = ""


def _check_plan(*, planned_start: dt.date, planned_finish: dt.date) -> None:
    today = timezone.localdate()
    earliest = dates.years_after(today, -PLAN_REACH_YEARS)
    latest = dates.years_after(today, PLAN_REACH_YEARS)
    for field, day in (("planned_start", planned_start), ("planned_finish", planned_finish)):
        dates.require_in_window(field, day)
        if not earliest <= day <= latest:
            raise ValidationError(
                {
                    field: _("Plan within %(years)s years of today: %(earliest)s to %(latest)s.")
                    % {
                        "years": PLAN_REACH_YEARS,
                        "earliest": earliest.isoformat(),
                        "latest": latest.isoformat(),
                    }
                }
            )


@transaction.atomic
def register_project(
    *,
    actor: User,
    unit: BusinessUnit,
    system: System,
    name: str,
    planned_budget: Decimal,
    planned_start: dt.date,
    planned_finish: dt.date,
    description: str = "",
    handles_personal_data: bool = False,
    size_unit: str = Project.SizeUnit.KLOC,
) -> Project:
    """A unit registers a project that builds or changes a system it can see. A project on a
    system that handles personal data handles it too, whatever the form says: the independent
    review cannot be opted out of."""
    if not policy.can_register_project(actor, unit):
        raise PermissionDenied(
            _("Only members of %(unit)s may register its projects.") % {"unit": unit.code}
        )
    if not systems_policy.visible_systems(actor).filter(pk=system.pk).exists():
        raise ValidationError({"system": _("No such system on the register.")})
    _check_plan(planned_start=planned_start, planned_finish=planned_finish)
    project = Project(
        reference=audit.next_reference("PRJ"),
        name=one_line(name),
        unit=unit,
        system=system,
        description=description.strip(),
        handles_personal_data=handles_personal_data or system.handles_personal_data,
        planned_budget=planned_budget,
        planned_start=planned_start,
        planned_finish=planned_finish,
        size_unit=size_unit,
        registered_by=actor,
    )
    if planned_finish < planned_start:
        raise ValidationError({"planned_finish": _("The finish comes before the start.")})
    project.full_clean()
    project.save()
    grant_to_unit(obj=project, unit=unit)
    audit.record(
        actor=actor,
        verb="project.registered",
        target=project,
        details={
            "unit": unit.code,
            "system": system.code,
            "personal_data": project.handles_personal_data,
            "budget": str(planned_budget),
        },
    )
    return project


def locked(project: Project) -> Project:
    # Only the project's row: its unit and system go on being reported and changed meanwhile.
    return (
        Project.objects.select_for_update(of=("self",))
        .select_related("unit", "system")
        .get(pk=project.pk)
    )


def latest_review(project: Project, phase: str) -> Review | None:
    return project.reviews.filter(phase=phase).order_by("-recorded_at", "-pk").first()


def require_review(project: Project) -> None:
    """A project with personal data leaves a phase only after an independent review of it that
    passed (the planning-stage review at planning, a plan-conformance check after)."""
    if not (project.handles_personal_data or project.system.handles_personal_data):
        return  # the system's flag too: it may have started handling personal data since
    review = latest_review(project, project.phase)
    if review is not None and review.passed:
        return
    phase = project.get_phase_display().lower()
    if project.phase == Phase.PLANNING:
        message = _(
            "This project handles personal data: it cannot leave planning without an "
            "independent planning-stage review that passed."
        )
    else:
        message = _(
            "This project handles personal data: it cannot leave %(phase)s without an "
            "independent check, passed, that what was built follows the plan."
        ) % {"phase": phase}
    if review is not None:
        message += " " + _("The latest review failed.")
    raise ValidationError({"phase": message})


@transaction.atomic
def advance_phase(*, actor: User, project: Project, expected_version: str | None = None) -> Project:
    """The owning unit moves its project to the next phase: planning → design → build → test.
    Release is the CQO's gate (decide_release), not the unit's move."""
    if not policy.can_advance(actor, project):
        raise PermissionDenied(_("Only the owning unit may move its project on."))
    project = locked(project)
    check_version(project, expected_version)
    if project.phase == Phase.RELEASE:
        raise ValidationError({"phase": _("The project is released; there is no next phase.")})
    if project.phase == Phase.TEST:
        raise ValidationError(
            {"phase": _("A project is released only by the CQO's release gate decision.")}
        )
    require_review(project)
    before = project.phase
    project.phase = NEXT_PHASE[Phase(before)]
    project.save(update_fields=["phase", "updated_at"])
    audit.record(
        actor=actor,
        verb="project.phase_advanced",
        target=project,
        details={"from": before, "to": project.phase},
    )
    return project
