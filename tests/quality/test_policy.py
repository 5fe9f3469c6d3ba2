"""Who may do what in quality control: a truth table per role."""

from __future__ import annotations

import pytest

from quality import policy

pytestmark = pytest.mark.django_db

PEOPLE = [
    "chair", "ciso", "cqo", "secretary", "auditor", "bu_head", "bu_member", "other_bu_member",
    "reviewer", "own_unit_reviewer",
]  # fmt: skip


def _person(request, who):
    return request.getfixturevalue(who)


@pytest.mark.parametrize(
    ("who", "sees_own", "sees_other"),
    [
        ("chair", True, True),
        ("ciso", True, True),
        ("cqo", True, True),
        ("secretary", True, True),
        ("auditor", True, True),
        ("bu_head", True, False),
        ("bu_member", True, False),
        ("other_bu_member", False, True),
        ("reviewer", True, True),  # Quality HQ reviews every unit's projects
        ("own_unit_reviewer", True, True),
    ],
)
def test_who_sees_which_project(request, project, other_project, who, sees_own, sees_other):
    visible = policy.visible_projects(_person(request, who))
    assert visible.filter(pk=project.pk).exists() is sees_own
    assert visible.filter(pk=other_project.pk).exists() is sees_other


@pytest.mark.parametrize(
    ("who", "reports", "reviews", "decides_release", "sets_thresholds"),
    [
        ("chair", False, False, True, True),
        ("ciso", False, False, False, False),
        ("cqo", False, False, True, True),
        ("secretary", False, False, False, False),
        ("auditor", False, False, False, False),
        ("bu_head", True, False, False, False),
        ("bu_member", True, False, False, False),
        ("other_bu_member", False, False, False, False),
        ("reviewer", False, True, False, False),
        ("own_unit_reviewer", True, False, False, False),  # of the unit: not independent
    ],
)
def test_who_may_do_what(request, project, who, reports, reviews, decides_release, sets_thresholds):
    person = _person(request, who)
    assert policy.can_report(person, project) is reports
    assert policy.can_advance(person, project) is reports
    assert policy.can_review(person, project) is reviews
    assert policy.can_decide_release(person, project) is decides_release
    assert (policy.threshold_office(person) is not None) is sets_thresholds


def test_an_acting_cqo_decides_releases_under_the_cqo_office(project, cqo, bu_head):
    from datetime import timedelta

    from django.utils import timezone

    from accounts import services as accounts_services
    from accounts.models import Office

    accounts_services.delegate_office(
        actor=cqo,
        office=Office.objects.get(code="CQO"),
        delegate=bu_head,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(days=1),
        reason="Leave",
    )
    assert policy.gate_office(bu_head) == "CQO"
    assert policy.can_decide_release(bu_head, project)


def test_nobody_signed_out_sees_anything(project):
    from django.contrib.auth.models import AnonymousUser

    assert not policy.visible_projects(AnonymousUser()).exists()
    assert not policy.can_report(AnonymousUser(), project)
    assert not policy.can_review(AnonymousUser(), project)
    assert policy.gate_office(AnonymousUser()) is None
