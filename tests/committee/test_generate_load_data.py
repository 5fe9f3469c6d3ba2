"""manage.py generate_load_data: the sizes asked for, the grants scoping needs, the same rows
from the same seed, and a refusal to write twice."""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from accounts.models import BusinessUnit, User
from actions import policy
from actions.models import Action, ActionGroupObjectPermission
from cases.models import Incident, Risk
from committee.load_data import Generator, sizes
from committee.models import Meeting
from systems.models import System

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]
SCALE = 0.002  # 3 units, 40 people, 20 systems, 2,000 actions


def _fingerprint() -> str:
    rows = Action.objects.order_by("reference").values_list(
        "reference", "unit__code", "assignee__username", "due_on", "status", "priority"
    )
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


class _Undo(Exception):
    pass


def test_it_writes_what_the_scale_asks_with_the_grants_scoping_needs():
    counts = Generator(scale=SCALE, seed=1).run()
    wanted = sizes(SCALE)
    assert BusinessUnit.objects.filter(code__startswith="LD").count() == wanted["units"]
    assert Action.objects.count() == wanted["actions"] == counts.actions
    assert Action.objects.overdue().count() == wanted["overdue"]
    assert System.objects.count() == wanted["systems"]
    assert Incident.objects.count() == wanted["incidents"]
    assert Risk.objects.count() == wanted["risks"]
    assert Meeting.objects.filter(status=Meeting.Status.SCHEDULED).count() == 1
    assert ActionGroupObjectPermission.objects.count() == 2 * wanted["actions"]
    member = User.objects.filter(username__startswith="ld0", memberships__isnull=False).last()
    unit = member.memberships.get().unit  # type: ignore[union-attr]
    assert policy.visible_actions(member).count() == Action.objects.filter(unit=unit).count() > 0
    with pytest.raises(CommandError, match="already holds generated data"):
        call_command("generate_load_data", "--scale", str(SCALE))


def test_the_same_seed_gives_the_same_rows_and_another_seed_others():
    prints = []
    for seed in (7, 7, 8):
        try:
            with transaction.atomic():
                Generator(scale=SCALE, seed=seed).run()
                prints.append(_fingerprint())
                raise _Undo
        except _Undo:
            pass
    assert prints[0] == prints[1] != prints[2]
