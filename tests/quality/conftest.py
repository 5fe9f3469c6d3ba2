"""Quality fixtures: projects registered and reported on through the services, and a quality
reviewer who belongs to Quality HQ, a unit of their own."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from quality import services
from quality.models import Phase, Project, QualityReport, Rag, Threshold
from tests.factories import BusinessUnitFactory, MembershipFactory, UserFactory
from tests.systems.conftest import register

CHECKLIST_YES = {
    "personal_data_inventory": "yes",
    "fail_safe_design": "yes",
    "transaction_uniqueness": "yes",
    "access_control": "yes",
    "test_plan": "yes",
    "release_criteria": "yes",
}
CONFORMANCE_YES = {
    "follows_plan": "yes",
    "fail_safe_design": "yes",
    "transaction_uniqueness": "yes",
    "deviations_recorded": "yes",
}


DEFAULT_THRESHOLDS = importlib.import_module("quality.migrations.0002_default_thresholds").DEFAULTS


def ensure_default_thresholds() -> None:
    """The thresholds the migration ships. A transactional test (the browser's, the worker's)
    empties every table when it ends, migration data included; the tests after it on the same
    database put them back here, as a fresh database would have them."""
    for indicator, (green, red) in DEFAULT_THRESHOLDS.items():
        Threshold.objects.get_or_create(indicator=indicator, defaults={"green": green, "red": red})


@pytest.fixture(autouse=True)
def _default_thresholds(request) -> None:
    if request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        request.getfixturevalue("db")
        ensure_default_thresholds()


def month(offset: int) -> dt.date:
    """The first day of the month `offset` months from this one (negative: earlier)."""
    today = timezone.localdate().replace(day=1)
    index = today.year * 12 + today.month - 1 + offset
    return dt.date(index // 12, index % 12 + 1, 1)


def report(project: Project, actor: User, period: dt.date, **figures: Any) -> QualityReport:
    """A report with healthy defaults: on plan, on budget."""
    values: dict[str, Any] = {
        "planned_value": Decimal("100000"),
        "earned_value": Decimal("100000"),
        "actual_cost": Decimal("100000"),
        "percent_complete": 10,
    }
    values.update(figures)
    return services.submit_report(actor=actor, project=project, period=period, **values)


def to_test(project: Project, actor: User, reviewer: User | None = None) -> Project:
    """Move a project on to test, where the release gate is, rated green on last month's
    report; with a reviewer, each phase is reviewed first (a project with personal data needs
    it)."""
    while project.phase != Phase.TEST:
        if reviewer is not None:
            answers = CHECKLIST_YES if project.phase == Phase.PLANNING else CONFORMANCE_YES
            services.record_review(
                actor=reviewer, project=project, checklist=answers, verdict="passed", summary="ok"
            )
        project = services.advance_phase(actor=actor, project=project)
    report(project, actor, month(-1), percent_complete=90)
    project.refresh_from_db()
    assert project.rag == Rag.GREEN
    return project


def make_project(unit: Any, actor: User, system: Any, **fields: Any) -> Project:
    values: dict[str, Any] = {
        "name": "Certificate issuance renewal",
        "planned_budget": Decimal("1000000"),
        "planned_start": timezone.localdate() - dt.timedelta(days=200),
        "planned_finish": timezone.localdate() + dt.timedelta(days=200),
    }
    values.update(fields)
    ensure_default_thresholds()
    return services.register_project(actor=actor, unit=unit, system=system, **values)


@pytest.fixture
def quality_hq(db):
    return BusinessUnitFactory.create(code="QHQ", name="Quality HQ")


@pytest.fixture
def reviewer(quality_hq) -> User:
    user = UserFactory.create(username="reviewer", roles=["quality_reviewer"])
    MembershipFactory.create(user=user, unit=quality_hq)
    return user


@pytest.fixture
def own_unit_reviewer(unit) -> User:
    """A quality reviewer who belongs to the project's own unit: never independent of it."""
    user = UserFactory.create(username="own_reviewer", roles=["quality_reviewer"])
    MembershipFactory.create(user=user, unit=unit)
    return user


@pytest.fixture
def system(unit, bu_head, bu_member):
    return register(unit, "cert-issuance", internet_facing=True, handles_personal_data=True)


@pytest.fixture
def plain_system(unit, bu_head, bu_member):
    return register(unit, "intranet-wiki")


@pytest.fixture
def project(unit, bu_member, system) -> Project:
    """A project on a system with personal data: it needs independent reviews."""
    return make_project(unit, bu_member, system)


@pytest.fixture
def plain_project(unit, bu_member, plain_system) -> Project:
    """A project without personal data: no review stands in its way."""
    return make_project(unit, bu_member, plain_system, name="Wiki upgrade")


@pytest.fixture
def other_project(other_unit, other_bu_member) -> Project:
    other_system = register(other_unit, "cloud-console")
    return make_project(other_unit, other_bu_member, other_system, name="Console rebuild")
