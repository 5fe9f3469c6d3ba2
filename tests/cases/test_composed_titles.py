"""A roll-out's directive and actions have titles the product composes (the incident's reference,
the measure, each system's code): each fits its column, on one line, whatever the measure says,
and the actions can be re-planned afterwards. SQLite does not enforce max_length, so the tests
assert the lengths themselves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import Action, Directive
from cases.services import add_measure
from config.text import ELLIPSIS, max_length
from tests.cases.conftest import report
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db

ACTION_MAX = max_length(Action, "title")
DIRECTIVE_MAX = max_length(Directive, "title")


def deadline(days: int = 30) -> str:
    return str(timezone.localdate() + timedelta(days=days))


@pytest.fixture
def measure(unit, other_unit, bu_member):
    failed = register(unit, "p" * 64, internet_facing=True)
    register(other_unit, "cloud-console", internet_facing=True)
    incident = report(unit, bu_member, title="t" * 200, affected_systems=[failed])
    return add_measure(
        actor=bu_member,
        incident=incident,
        description="Enforce MFA on every internet-facing system\r\n\r\n" + "Then: " * 200,
        criteria={"internet_facing": True},
    )


def test_the_default_title_of_a_roll_out_fits_and_its_actions_replan(login_as, ciso, measure):
    client = login_as(ciso)
    response = client.post(
        f"/api/v1/incidents/{measure.incident.pk}/rollout/",
        {"measure": measure.pk, "deadline": deadline()},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    directive = Directive.objects.get(origin_measure=measure)
    reference = measure.incident.reference
    assert len(directive.title) == DIRECTIVE_MAX
    assert directive.title.startswith(
        f"{reference}: Enforce MFA on every internet-facing system Then:"
    )
    assert directive.title.endswith(ELLIPSIS)
    actions = list(Action.objects.filter(directive=directive).select_related("system"))
    assert len(actions) == 2
    for action in actions:
        assert len(action.title) <= ACTION_MAX
        assert action.system is not None
        assert action.title.endswith(f" — {action.system.code}")
        assert "\n" not in action.title
        action.full_clean()
        etag = client.get(f"/api/v1/actions/{action.pk}/")["ETag"]
        replanned = client.post(
            f"/api/v1/actions/{action.pk}/replan/",
            {"reason": "The vendor fix slipped", "due_on": deadline(45)},
            content_type="application/json",
            HTTP_IF_MATCH=etag,
        )
        assert replanned.status_code == 200, replanned.json()


def test_the_longest_title_typed_on_the_page_fits_every_action(login_as, ciso, measure):
    title = "Roll MFA out " + "m" * (DIRECTIVE_MAX - 13)
    response = login_as(ciso).post(
        reverse("cases:measure-rollout", args=[measure.incident.pk, measure.pk]),
        {"deadline": deadline(), "title": title},
    )
    assert response.status_code == 302
    directive = Directive.objects.get(origin_measure=measure)
    assert directive.title == title
    found = dict(directive.actions.values_list("system__code", "title"))
    assert set(found) == {"p" * 64, "cloud-console"}
    assert all(len(t) <= ACTION_MAX for t in found.values())
    assert found["p" * 64].endswith(ELLIPSIS + " — " + "p" * 64)
    assert found["cloud-console"].startswith("Roll MFA out mmm")


def test_titles_typed_with_line_breaks_are_stored_on_one_line(login_as, bu_member, unit):
    """Through the page and the API alike (the service makes them one line, whichever door)."""
    client = login_as(bu_member)
    detected = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(
        reverse("cases:incident-new"),
        {"unit": "PUBSEC", "title": "VPN down\r\nSeverity: low", "description": "Two\nlines",
         "category": "unauthorized_access", "severity": "high", "domain": "security",
         "detected_at": detected},
    )  # fmt: skip
    assert page.status_code == 302
    api = client.post(
        "/api/v1/risks/",
        {"title": "Stale\taccounts\u2028everywhere", "unit": "PUBSEC", "owner": "bu_member",
         "likelihood": 3, "impact": 3},
        content_type="application/json",
    )  # fmt: skip
    assert api.status_code == 201, api.json()
    from cases.models import Incident, Risk

    incident = Incident.objects.get()
    assert (incident.title, incident.description) == ("VPN down Severity: low", "Two\nlines")
    assert Risk.objects.get().title == "Stale accounts everywhere"
