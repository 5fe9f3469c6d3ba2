"""Action titles a directive composes (its title and each system's code) fit the title column,
so the actions issue on PostgreSQL and can be re-planned and updated afterwards. SQLite does not
enforce max_length, so every test asserts the lengths itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from actions import services
from actions.models import Action, Directive
from config.text import ELLIPSIS, max_length
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db

TITLE_MAX = max_length(Action, "title")
DIRECTIVE_MAX = max_length(Directive, "title")
CODE_MAX = 64
SEPARATOR = " — "


def deadline() -> str:
    return str(timezone.localdate() + timedelta(days=30))


def later() -> str:
    return str(timezone.localdate() + timedelta(days=45))


def issue_over_api(client: Client, **fields: object) -> Directive:
    created = client.post(
        "/api/v1/directives/",
        {"body": "Apply the vendor fix.", "deadline": deadline(), **fields},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    issued = client.post(
        f"/api/v1/directives/{created.json()['id']}/issue/", {}, content_type="application/json"
    )
    assert issued.status_code == 200, issued.json()
    return Directive.objects.get(pk=created.json()["id"])


def titles(directive: Directive) -> dict[str, str]:
    """Each action's title by its system's code."""
    return dict(directive.actions.values_list("system__code", "title"))


def test_the_longest_title_and_code_fit_and_the_actions_replan_and_update(
    login_as, ciso, unit, bu_member
):
    long_code = "s" * CODE_MAX
    register(unit, long_code, internet_facing=True)
    register(unit, "vpn", internet_facing=True)
    title = "Patch every internet-facing gateway " + "x" * (DIRECTIVE_MAX - 36)
    assert len(title) == DIRECTIVE_MAX
    ciso_client = login_as(ciso)
    directive = issue_over_api(
        ciso_client, title=title, criteria={"units": ["PUBSEC"], "internet_facing": True}
    )

    found = titles(directive)
    assert all(len(t) <= TITLE_MAX for t in found.values()), {len(t) for t in found.values()}
    # The code is kept whole; the directive's title gives way, and says it was cut.
    assert found[long_code] == title[: TITLE_MAX - 3 - 1 - CODE_MAX] + ELLIPSIS + " — " + long_code
    assert found["vpn"] == title[: TITLE_MAX - 3 - 1 - 3] + ELLIPSIS + " — vpn"
    assert len(found[long_code]) == len(found["vpn"]) == TITLE_MAX

    for action in directive.actions.all():
        action.full_clean()  # what SQLite let through unchecked before
        etag = ciso_client.get(f"/api/v1/actions/{action.pk}/")["ETag"]
        replanned = ciso_client.post(
            f"/api/v1/actions/{action.pk}/replan/",
            {"reason": "Vendor fix slipped", "due_on": later()},
            content_type="application/json",
            HTTP_IF_MATCH=etag,
        )
        assert replanned.status_code == 200, replanned.json()
    ciso_client.logout()
    unit_client = login_as(bu_member)
    action = directive.actions.get(system__code=long_code)
    etag = unit_client.get(f"/api/v1/actions/{action.pk}/")["ETag"]
    updated = unit_client.post(
        f"/api/v1/actions/{action.pk}/updates/",
        {"note": "Half the gateways done", "percent_done": 50},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert updated.status_code == 201, updated.json()


def test_a_title_that_fits_with_the_code_is_kept_whole(ciso, unit):
    long_code = "s" * CODE_MAX
    register(unit, long_code, internet_facing=True)
    register(unit, "vpn", internet_facing=True)
    exact = "t" * (TITLE_MAX - len(SEPARATOR) - CODE_MAX)  # fits even the longest code
    one_more = exact + "u"  # fits a short code only
    for title in (exact, one_more):
        directive = services.draft_directive(
            actor=ciso,
            title=title,
            body="Do it.",
            deadline=timezone.localdate() + timedelta(days=30),
            criteria={"units": ["PUBSEC"]},
        )
        services.issue_directive(actor=ciso, directive=directive)
        found = titles(directive)
        assert found["vpn"] == title + " — vpn"
        assert all(len(t) <= TITLE_MAX for t in found.values())
    assert titles(Directive.objects.get(title=exact))[long_code] == exact + " — " + long_code
    cut = titles(Directive.objects.get(title=one_more))[long_code]
    assert cut == one_more[: TITLE_MAX - 3 - 1 - CODE_MAX] + ELLIPSIS + " — " + long_code
    assert len(cut) == TITLE_MAX


def test_characters_not_bytes_are_counted(ciso, unit):
    """Japanese titles: the database counts characters as Python does, on SQLite and PostgreSQL."""
    register(unit, "juminhyo-print", internet_facing=True)
    title = "住民票の写しの誤交付を防ぐための確認手順の徹底" * 10
    directive = services.draft_directive(
        actor=ciso,
        title=title[:DIRECTIVE_MAX],
        body="確認手順を徹底する。",
        deadline=timezone.localdate() + timedelta(days=30),
        criteria={"units": ["PUBSEC"]},
    )
    services.issue_directive(actor=ciso, directive=directive)
    [found] = titles(directive).values()
    assert len(found) == TITLE_MAX
    assert found.endswith(ELLIPSIS + " — juminhyo-print")
    assert found.startswith(title[:100])


def test_a_directive_to_units_gives_each_its_title_whole(ciso, unit, other_unit):
    title = "y" * DIRECTIVE_MAX
    directive = services.draft_directive(
        actor=ciso,
        title=title,
        body="Do it.",
        deadline=timezone.localdate() + timedelta(days=30),
        units=[unit, other_unit],
    )
    services.issue_directive(actor=ciso, directive=directive)
    assert set(directive.actions.values_list("title", flat=True)) == {title}


def test_a_directive_title_is_one_line_and_within_its_column(login_as, ciso, unit):
    register(unit, "vpn", internet_facing=True)
    directive = issue_over_api(
        login_as(ciso),
        title="Patch the VPN\r\nBcc: everyone@example.test",
        criteria={"units": ["PUBSEC"]},
    )
    assert directive.title == "Patch the VPN Bcc: everyone@example.test"
    assert titles(directive) == {"vpn": "Patch the VPN Bcc: everyone@example.test — vpn"}
    too_long = login_as(ciso).post(
        "/api/v1/directives/",
        {
            "title": "z" * (DIRECTIVE_MAX + 1),
            "body": "b",
            "deadline": deadline(),
            "all_units": True,
        },
        content_type="application/json",
    )
    assert too_long.status_code == 400
    assert "title" in too_long.json()


def test_a_title_typed_with_line_breaks_keeps_the_submission_mail_in_shape(
    login_as, ciso, bu_member, unit
):
    from django.core import mail

    from actions.tasks import notify_submitted

    client = login_as(ciso)
    created = client.post(
        "/api/v1/actions/",
        {"title": "Rotate keys\r\nVerify it: done", "unit": "PUBSEC", "due_on": deadline()},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["title"] == "Rotate keys Verify it: done"
    action = Action.objects.get(pk=created.json()["id"])
    services.transition_action(actor=bu_member, action=action, act="start")
    services.transition_action(actor=bu_member, action=action, act="submit")
    assert notify_submitted(action.pk) == 1
    [message] = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    lines = message.body.splitlines()
    assert f"{action.reference}: Rotate keys Verify it: done" in lines
    assert not any(line.startswith("Verify it: done") for line in lines)
