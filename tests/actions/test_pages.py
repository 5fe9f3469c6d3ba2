"""The actions and directives pages: what each role sees and may press, refusals, exports, query
counts, the directive preview, and the overdue trend (selector and chart)."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from actions import api, charts, filters, policy, selectors, services
from actions.models import Action, Directive, Evidence
from audit.models import AuditEvent
from tests.actions import files
from tests.actions.conftest import task
from tests.conftest import sign_in
from tests.pages import (
    assert_constant_queries,
    csv_lines_all_quoted,
    csv_rows,
    formula_cells,
    xlsx_rows,
)
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")


def signed_in(user: User) -> Client:
    """A separate browser per person, signed in with MFA done (as `login_as`, but several)."""
    return sign_in(Client(), user)


def page(pk: int) -> str:
    return reverse("actions:action", args=[pk])


def act_url(action: Action, act: str) -> str:
    return reverse("actions:action-act", args=[action.pk, act])


def version_on(html: str) -> str:
    """The version the page carries in its forms (what a browser would post back)."""
    found = re.search(r'name="version" value="([^"]+)"', html)
    assert found, "the page carries no version"
    return found.group(1).replace("&quot;", '"')


def buttons(html: str) -> set[str]:
    return set(re.findall(r'data-testid="act-([a-z]+)"', html))


def pdf(name: str = "mfa-report.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.7 evidence", content_type="application/pdf")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- An action's page: the whole lifecycle through the pages ------------------------------------


def test_a_member_submits_with_evidence_and_the_ciso_verifies(bu_member, ciso, action):
    member, officer = signed_in(bu_member), signed_in(ciso)

    html = member.get(page(action.pk)).content.decode()
    assert buttons(html) == {"start"}
    assert 'data-testid="update-form"' in html
    assert buttons(officer.get(page(action.pk)).content.decode()) == {"cancel", "replan"}

    response = member.post(act_url(action, "start"), {"version": version_on(html)})
    assert response.status_code == 302
    html = member.get(page(action.pk)).content.decode()
    response = member.post(
        reverse("actions:action-update", args=[action.pk]),
        {
            "version": version_on(html),
            "note": "MFA on for all accounts",
            "percent_done": "90",
            "evidence": [pdf()],
        },
    )
    assert response.status_code == 302, response.content.decode()
    evidence = Evidence.objects.get()
    assert (evidence.name, evidence.content_type) == ("mfa-report.pdf", "application/pdf")
    action.refresh_from_db()
    assert action.percent_done == 90

    html = member.get(page(action.pk)).content.decode()
    assert buttons(html) == {"submit"}
    assert "mfa-report.pdf" in html and "MFA on for all accounts" in html
    assert "submit" not in buttons(officer.get(page(action.pk)).content.decode())
    assert member.post(act_url(action, "submit"), {"version": version_on(html)}).status_code == 302

    html = officer.get(page(action.pk)).content.decode()
    assert {"verify", "return"} <= buttons(html)
    assert buttons(member.get(page(action.pk)).content.decode()) == set()
    download = officer.get(reverse("actions:evidence", args=[action.pk, evidence.pk]))
    assert download.status_code == 200
    assert download.getvalue() == b"%PDF-1.7 evidence"
    response = officer.post(act_url(action, "verify"), {"version": version_on(html)}, follow=True)
    assert response.status_code == 200
    assert "The action is verified." in response.content.decode()

    action.refresh_from_db()
    assert action.status == Action.Status.VERIFIED
    event = AuditEvent.objects.get(verb="action.verified")
    assert (event.actor, event.office) == (ciso, "CISO")
    assert buttons(officer.get(page(action.pk)).content.decode()) == set()


def submitted(action: Action, member: User) -> Action:
    services.transition_action(actor=member, action=action, act="start")
    return services.transition_action(actor=member, action=action, act="submit")


def test_posting_an_act_one_may_not_do_is_refused_with_the_reason(bu_member, ciso, action):
    action = submitted(action, bu_member)
    member = signed_in(bu_member)
    before = (action.status, action.version)
    response = member.post(act_url(action, "verify"), {"version": services.etag(action)})
    assert response.status_code == 403
    assert "Only the office that owns this domain" in response.content.decode()
    action.refresh_from_db()
    assert (action.status, action.version) == before
    assert not AuditEvent.objects.filter(verb="action.verified").exists()


def test_the_ciso_may_not_start_or_update_a_units_action(ciso, action):
    officer = signed_in(ciso)
    response = officer.post(act_url(action, "start"), {"version": services.etag(action)})
    assert response.status_code == 403
    assert "Only members of the owning unit" in response.content.decode()
    response = officer.post(
        reverse("actions:action-update", args=[action.pk]),
        {"version": services.etag(action), "note": "done"},
    )
    assert response.status_code == 403
    action.refresh_from_db()
    assert (action.status, action.updates.count()) == (Action.Status.OPEN, 0)


def test_a_submitter_who_holds_the_office_may_not_verify_their_own(unit, ciso, bu_member):
    from tests.factories import MembershipFactory

    MembershipFactory.create(user=ciso, unit=unit)  # the CISO also works in the unit
    action = submitted(task(unit, ciso), ciso)
    html = signed_in(ciso).get(page(action.pk)).content.decode()
    assert "verify" not in buttons(html)
    response = signed_in(ciso).post(act_url(action, "verify"), {"version": services.etag(action)})
    assert response.status_code == 403
    assert "segregation of duties" in response.content.decode()


def test_a_stale_page_is_refused_with_412(bu_member, action):
    member = signed_in(bu_member)
    read = version_on(member.get(page(action.pk)).content.decode())
    services.add_update(actor=bu_member, action=action, note="Meanwhile, elsewhere")
    response = member.post(act_url(action, "start"), {"version": read})
    assert response.status_code == 412
    assert "changed this while you were reading" in response.content.decode()
    action.refresh_from_db()
    assert action.status == Action.Status.OPEN
    response = member.post(
        reverse("actions:action-update", args=[action.pk]), {"version": read, "note": "late"}
    )
    assert response.status_code == 412
    assert action.updates.count() == 1


def test_a_post_without_the_version_is_refused(bu_member, action):
    response = signed_in(bu_member).post(act_url(action, "start"), {})
    assert response.status_code == 412
    action.refresh_from_db()
    assert action.status == Action.Status.OPEN


def test_returning_without_a_note_shows_the_error_in_place(bu_member, ciso, action):
    action = submitted(action, bu_member)
    response = signed_in(ciso).post(act_url(action, "return"), {"version": services.etag(action)})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-note"' in html and "Say what is missing." in html
    action.refresh_from_db()
    assert action.status == Action.Status.SUBMITTED
    response = signed_in(ciso).post(
        act_url(action, "return"), {"version": services.etag(action), "note": "No evidence"}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == Action.Status.RETURNED


def test_an_unaccepted_evidence_file_is_an_error_in_place(bu_member, action):
    response = signed_in(bu_member).post(
        reverse("actions:action-update", args=[action.pk]),
        {
            "version": services.etag(action),
            "note": "see attached",
            "evidence": [
                SimpleUploadedFile("run.exe", files.EXE, content_type="application/x-msdownload")
            ],
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-evidence"' in html and "not an accepted evidence type" in html
    assert not Evidence.objects.exists()
    assert action.updates.count() == 0


def test_a_percentage_out_of_range_is_an_error_in_place(bu_member, action):
    response = signed_in(bu_member).post(
        reverse("actions:action-update", args=[action.pk]),
        {"version": services.etag(action), "percent_done": "150"},
    )
    assert response.status_code == 400
    assert 'data-testid="error-percent_done"' in response.content.decode()
    action.refresh_from_db()
    assert action.percent_done == 0


def test_an_illegal_transition_is_refused_with_the_reason(bu_member, action):
    response = signed_in(bu_member).post(
        act_url(action, "submit"), {"version": services.etag(action)}
    )
    assert response.status_code == 400
    assert "Cannot submit an action that is open" in response.content.decode()


def test_another_units_action_is_a_404_everywhere(other_bu_member, bu_member, action):
    services.add_update(actor=bu_member, action=action, files=[pdf()])
    evidence = Evidence.objects.get()
    stranger = signed_in(other_bu_member)
    assert stranger.get(page(action.pk)).status_code == 404
    assert (
        stranger.get(reverse("actions:evidence", args=[action.pk, evidence.pk])).status_code == 404
    )
    assert stranger.post(act_url(action, "start"), {"version": "*"}).status_code == 404
    assert (
        stranger.post(reverse("actions:action-update", args=[action.pk]), {"note": "x"}).status_code
        == 404
    )
    action.refresh_from_db()
    assert action.status == Action.Status.OPEN


def test_evidence_must_belong_to_the_action_in_the_url(bu_member, unit, ciso, action):
    second = task(unit, ciso, title="Second")
    services.add_update(actor=bu_member, action=action, files=[pdf()])
    evidence = Evidence.objects.get()
    member = signed_in(bu_member)
    assert member.get(reverse("actions:evidence", args=[second.pk, evidence.pk])).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, action):
    for path in [page(action.pk), reverse("actions:actions"), reverse("actions:directives")]:
        response = client.get(path)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_an_auditor_reads_but_sees_no_buttons(auditor, action):
    response = signed_in(auditor).get(page(action.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert buttons(html) == set()
    assert 'data-testid="update-form"' not in html


def test_the_ciso_replans_and_cancels_through_the_page(bu_member, ciso, action):
    member = signed_in(bu_member)
    html = member.get(page(action.pk)).content.decode()
    assert 'data-testid="replan-form"' not in html
    new_due = timezone.localdate() + dt.timedelta(days=40)
    response = member.post(
        reverse("actions:action-replan", args=[action.pk]),
        {"version": services.etag(action), "reason": "more time", "due_on": new_due.isoformat()},
    )
    assert response.status_code == 403
    action.refresh_from_db()
    assert action.due_on != new_due

    officer = signed_in(ciso)
    html = officer.get(page(action.pk)).content.decode()
    assert 'data-testid="replan-form"' in html
    response = officer.post(
        reverse("actions:action-replan", args=[action.pk]),
        {"version": version_on(html), "reason": "Vendor patch late", "due_on": new_due.isoformat()},
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.due_on == new_due
    assert AuditEvent.objects.get(verb="action.replanned").details["reason"] == "Vendor patch late"

    past = timezone.localdate() - dt.timedelta(days=1)
    response = officer.post(
        reverse("actions:action-replan", args=[action.pk]),
        {"version": services.etag(action), "reason": "x", "due_on": past.isoformat()},
    )
    assert response.status_code == 400
    assert 'data-testid="error-due_on"' in response.content.decode()

    response = officer.post(act_url(action, "cancel"), {"version": services.etag(action)})
    assert response.status_code == 400
    assert "Say why the action is cancelled." in response.content.decode()
    response = officer.post(
        act_url(action, "cancel"), {"version": services.etag(action), "note": "Superseded"}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.status, action.cancel_reason) == (Action.Status.CANCELLED, "Superseded")


def test_the_origin_of_an_action_is_shown(ciso, unit, other_unit, bu_member):
    directive = services.draft_directive(
        actor=ciso,
        title="Patch the VPN",
        body="Apply the fix.",
        deadline=timezone.localdate() + dt.timedelta(days=9),
        units=[unit],
    )
    services.issue_directive(actor=ciso, directive=directive)
    action = Action.objects.get(directive=directive)
    html = signed_in(bu_member).get(page(action.pk)).content.decode()
    assert 'data-testid="origin-directive"' in html and directive.reference in html
    assert 'data-testid="origin-incident"' not in html


# --- The list --------------------------------------------------------------------------------


def rows_of(html: str) -> list[str]:
    return re.findall(r'data-testid="action-row" data-reference="([^"]+)"', html)


def overdue(action: Action, days: int = 3) -> Action:
    Action.objects.filter(pk=action.pk).update(
        due_on=timezone.localdate() - dt.timedelta(days=days)
    )
    action.refresh_from_db()
    return action


def test_the_list_quick_views_and_filters(
    unit, other_unit, ciso, cqo, bu_member, bu_head, other_bu_member
):
    mine = task(unit, ciso, title="Mine", assignee=bu_member)
    late = overdue(task(unit, ciso, title="Late"))
    quality = task(unit, cqo, title="Quality", domain="quality")
    theirs = task(other_unit, ciso, title="Theirs")
    Action.objects.filter(pk=quality.pk).update(escalation_level=2)
    member = signed_in(bu_member)
    url = reverse("actions:actions")

    everything = rows_of(member.get(url).content.decode())
    assert sorted(everything) == sorted([mine.reference, late.reference, quality.reference])
    assert rows_of(member.get(url + "?mine=true").content.decode()) == [mine.reference]
    assert rows_of(member.get(url + "?overdue=true").content.decode()) == [late.reference]
    assert sorted(rows_of(member.get(url + "?my_unit=true").content.decode())) == sorted(everything)
    assert rows_of(member.get(url + "?domain=quality").content.decode()) == [quality.reference]
    assert rows_of(member.get(url + "?escalation_level=2").content.decode()) == [quality.reference]
    before = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert rows_of(member.get(url + f"?due_before={before}").content.decode()) == [late.reference]

    officer = signed_in(ciso)
    assert theirs.reference in rows_of(officer.get(url).content.decode())
    assert rows_of(officer.get(url + "?unit=CLOUD").content.decode()) == [theirs.reference]
    assert rows_of(officer.get(url + "?my_unit=true").content.decode()) == []
    html = officer.get(url + "?status=open&overdue=true").content.decode()
    assert rows_of(html) == [late.reference]
    assert 'name="overdue" value="True"' in html  # the quick view survives filtering
    assert 'aria-current="page" href="/actions/?overdue=true"' in html


def test_a_bad_filter_value_shows_its_error(bu_member, action):
    response = signed_in(bu_member).get(reverse("actions:actions") + "?due_before=soon")
    assert response.status_code == 400  # as any form with bad input
    assert 'data-testid="error-due_before"' in response.content.decode()


def test_the_list_exports_the_filtered_rows(unit, other_unit, ciso, bu_member):
    late = overdue(task(unit, ciso, title="Late"))
    task(unit, ciso, title="On time")
    task(other_unit, ciso, title="Elsewhere")
    officer = signed_in(ciso)
    url = reverse("actions:actions")
    response = officer.get(url + "?overdue=true&export=csv")
    assert response["Content-Type"].startswith("text/csv")
    table = csv_rows(response.content)
    assert table[0][:3] == ["Reference", "Title", "Unit"]
    assert [row[0] for row in table[1:]] == [late.reference]
    assert table[1][7] == "Yes"
    sheet = xlsx_rows(officer.get(url + "?unit=PUBSEC&export=xlsx").content)
    assert sorted(str(row[1]) for row in sheet[1:]) == ["Late", "On time"]
    member_table = csv_rows(signed_in(bu_member).get(url + "?export=csv").content)
    assert "Elsewhere" not in {row[1] for row in member_table}


def test_a_title_that_looks_like_a_formula_exports_as_text(unit, ciso):
    titles = {"a;=1+2;b", '=HYPERLINK("http://x")', "@SUM(A1)", "x,-1;+2"}
    for title in titles:
        task(unit, ciso, title=title)
    officer = signed_in(ciso)
    url = reverse("actions:actions")
    content = officer.get(url + "?export=csv").content
    assert formula_cells(content) == []
    assert csv_lines_all_quoted(content)
    assert "a;'=1+2;b" in {row[1] for row in csv_rows(content)}
    book = load_workbook(io.BytesIO(officer.get(url + "?export=xlsx").content))
    cells = [row[1] for row in book.active.iter_rows(min_row=2)]
    assert {cell.value for cell in cells} == titles
    assert {cell.data_type for cell in cells} == {"s"}


def test_the_list_shows_the_overdue_trend(bu_member, action):
    overdue(action)
    html = signed_in(bu_member).get(reverse("actions:actions")).content.decode()
    assert 'data-testid="overdue-trend"' in html
    assert '<title id="overdue-trend-title">Overdue actions, last 12 weeks</title>' in html
    assert html.count("<rect") == 12


@pytest.mark.parametrize("role", ["ciso", "bu_member"])
def test_the_list_costs_the_same_queries_for_3_and_30_actions(request, role, unit, ciso, bu_member):
    client = signed_in(request.getfixturevalue(role))

    def grow(n: int) -> None:
        for index in range(n):
            late = task(unit, ciso, title=f"Row {index}", assignee=bu_member)
            if index % 2:
                overdue(late)

    assert_constant_queries(client, reverse("actions:actions"), grow)
    assert_constant_queries(client, reverse("actions:actions") + "?my_unit=true&overdue=true", grow)


def test_an_action_page_costs_the_same_queries_for_3_and_30_updates(bu_member, ciso, action):
    def grow(n: int) -> None:
        for index in range(n):
            services.add_update(
                actor=bu_member, action=action, note=f"step {index}", files=[pdf(f"{index}.pdf")]
            )

    assert_constant_queries(signed_in(bu_member), page(action.pk), grow)
    assert_constant_queries(signed_in(ciso), page(action.pk), grow)


# --- Directives ------------------------------------------------------------------------------


def deadline() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=30)


def draft(actor: User, **fields: Any) -> Directive:
    defaults = {"title": "Enforce MFA", "body": "Turn on MFA.", "deadline": deadline()}
    return services.draft_directive(actor=actor, **{**defaults, **fields})


def directive_form(**fields: Any) -> dict[str, Any]:
    return {
        "title": "Enforce MFA on internet-facing systems",
        "body": "Turn MFA on for every account.",
        "domain": "security",
        "deadline": deadline().isoformat(),
        "address": "units",
        "units": ["PUBSEC", "CLOUD"],
        **fields,
    }


def test_the_ciso_drafts_previews_and_issues_a_directive(ciso, unit, other_unit, bu_member):
    officer = signed_in(ciso)
    listing = officer.get(reverse("actions:directives")).content.decode()
    assert 'data-testid="new-directive"' in listing
    form = officer.get(reverse("actions:directive-new")).content.decode()
    assert '<option value="security"' in form and '<option value="quality"' not in form

    response = officer.post(reverse("actions:directive-new"), directive_form())
    assert response.status_code == 302
    directive = Directive.objects.get()
    assert directive.status == Directive.Status.DRAFT
    assert AuditEvent.objects.filter(verb="directive.drafted", actor=ciso).exists()
    html = officer.get(response["Location"]).content.decode()
    assert "Issuing creates one action for each of 2 business units." in html
    assert 'data-testid="issue"' in html
    assert not Action.objects.exists()

    asked = officer.post(reverse("actions:directive-issue", args=[directive.pk]))
    assert asked.status_code == 200 and "2 actions are created now" in asked.content.decode()
    assert not Action.objects.exists()  # asking creates nothing
    response = officer.post(
        reverse("actions:directive-issue", args=[directive.pk]), {"confirm": "yes"}
    )
    assert response.status_code == 302
    directive.refresh_from_db()
    assert directive.status == Directive.Status.ISSUED
    assert sorted(directive.actions.values_list("unit__code", flat=True)) == ["CLOUD", "PUBSEC"]
    html = officer.get(reverse("actions:directive", args=[directive.pk])).content.decode()
    assert html.count('data-testid="directive-action"') == 2
    assert "0 of 2 verified (0%)." in html
    assert 'data-testid="issue"' not in html
    again = officer.post(reverse("actions:directive-issue", args=[directive.pk]))
    assert again.status_code == 409
    assert directive.actions.count() == 2


def test_the_preview_counts_what_issuing_creates_for_criteria(ciso, unit, other_unit):
    register(unit, "share-tool", internet_facing=True, mfa_enforced=False)
    register(unit, "portal", internet_facing=True, mfa_enforced=False)
    register(other_unit, "cloud-console", internet_facing=True, mfa_enforced=False)
    register(unit, "intranet", internet_facing=False)
    officer = signed_in(ciso)
    response = officer.post(
        reverse("actions:directive-new"),
        directive_form(
            address="criteria",
            units=[],
            internet_facing="yes",
            mfa_enforced="no",
            environment=["production", "staging"],
        ),
    )
    assert response.status_code == 302, response.content.decode()
    directive = Directive.objects.get()
    assert directive.criteria == {
        "internet_facing": True,
        "mfa_enforced": False,
        "environment": ["production", "staging"],
    }
    html = officer.get(response["Location"]).content.decode()
    assert "each of the 3 matching systems" in html and "They belong to 2 business units." in html
    assert html.count('data-testid="criterion"') == 3
    services.issue_directive(actor=ciso, directive=directive)
    assert directive.actions.count() == 3


def test_directive_reach_is_what_issuing_creates(ciso, unit, other_unit):
    from tests.factories import BusinessUnitFactory

    BusinessUnitFactory.create(code="GONE", is_active=False)
    register(unit, "a", internet_facing=True)
    register(unit, "b", internet_facing=True)
    register(unit, "c", internet_facing=True, status="retired")
    cases = [
        (draft(ciso, units=[unit]), services.Reach(actions=1, units=1, systems=0)),
        (draft(ciso, all_units=True), services.Reach(actions=2, units=2, systems=0)),
        (
            draft(ciso, criteria={"internet_facing": True}),
            services.Reach(actions=2, units=1, systems=2),
        ),
    ]
    for directive, expected in cases:
        with CaptureQueriesContext(connection) as ctx:
            reach = services.directive_reach(directive)
        assert reach == expected
        assert len(ctx.captured_queries) == 1
        services.issue_directive(actor=ciso, directive=directive)
        assert directive.actions.count() == expected.actions


def test_the_directive_form_shows_errors_in_place(ciso, unit, other_unit):
    officer = signed_in(ciso)
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = officer.post(reverse("actions:directive-new"), directive_form(deadline=past))
    assert response.status_code == 400
    assert 'data-testid="error-deadline"' in response.content.decode()
    response = officer.post(
        reverse("actions:directive-new"), directive_form(address="criteria", units=[])
    )
    assert response.status_code == 400
    assert 'data-testid="error-address"' in response.content.decode()
    response = officer.post(reverse("actions:directive-new"), directive_form(units=[]))
    assert response.status_code == 400
    assert 'data-testid="error-units"' in response.content.decode()
    assert not Directive.objects.exists()


@pytest.mark.parametrize("role", ["bu_member", "auditor", "secretary"])
def test_those_who_may_not_issue_see_no_form_and_are_refused(request, role, unit):
    client = signed_in(request.getfixturevalue(role))
    assert (
        'data-testid="new-directive"'
        not in client.get(reverse("actions:directives")).content.decode()
    )
    response = client.get(reverse("actions:directive-new"))
    assert response.status_code == 403
    assert "Only the CISO, the CQO or the chair" in response.content.decode()
    response = client.post(reverse("actions:directive-new"), directive_form(units=["PUBSEC"]))
    assert response.status_code == 403
    assert not Directive.objects.exists()


def test_the_cqo_may_not_issue_a_security_directive(ciso, cqo, unit):
    directive = draft(ciso, units=[unit])
    quality = signed_in(cqo)
    html = quality.get(reverse("actions:directive", args=[directive.pk])).content.decode()
    assert 'data-testid="issue"' not in html and 'data-testid="withdraw"' not in html
    assert "Issuing creates one action for 1 business unit." in html  # the preview is a read
    response = quality.post(reverse("actions:directive-issue", args=[directive.pk]))
    assert response.status_code == 403
    response = quality.post(
        reverse("actions:directive-withdraw", args=[directive.pk]), {"reason": "mine now"}
    )
    assert response.status_code == 403
    directive.refresh_from_db()
    assert directive.status == Directive.Status.DRAFT
    response = quality.post(
        reverse("actions:directive-new"), directive_form(domain="security", units=["PUBSEC"])
    )
    assert response.status_code == 403
    assert Directive.objects.count() == 1


def test_the_chair_may_issue_in_any_domain(chair, unit):
    form = signed_in(chair).get(reverse("actions:directive-new")).content.decode()
    assert all(f'<option value="{d}"' in form for d in ["security", "quality", "other"])


def test_the_issuing_office_withdraws(ciso, unit, other_unit, bu_member):
    directive = services.issue_directive(
        actor=ciso, directive=draft(ciso, units=[unit, other_unit])
    )
    officer = signed_in(ciso)
    url = reverse("actions:directive-withdraw", args=[directive.pk])
    response = officer.post(url, {"reason": ""})
    assert response.status_code == 400
    assert 'data-testid="error-reason"' in response.content.decode()
    response = officer.post(url, {"reason": "Superseded by DIR-2"})
    assert response.status_code == 302
    directive.refresh_from_db()
    assert directive.status == Directive.Status.WITHDRAWN
    assert set(directive.actions.values_list("status", flat=True)) == {"cancelled"}
    assert AuditEvent.objects.filter(verb="directive.withdrawn").exists()
    html = officer.get(reverse("actions:directive", args=[directive.pk])).content.decode()
    assert 'data-testid="withdraw"' not in html and "Superseded by DIR-2" in html


def test_a_unit_sees_its_own_part_of_a_directive(
    ciso, unit, other_unit, bu_member, other_bu_member
):
    both = services.issue_directive(actor=ciso, directive=draft(ciso, units=[unit, other_unit]))
    only_theirs = services.issue_directive(
        actor=ciso, directive=draft(ciso, units=[other_unit], title="Rotate keys")
    )
    unpublished = draft(ciso, units=[unit], title="Still a draft")
    member = signed_in(bu_member)
    html = member.get(reverse("actions:directive", args=[both.pk])).content.decode()
    assert html.count('data-testid="directive-action"') == 1
    assert "PUBSEC" in html and 'data-testid="withdraw"' not in html
    assert member.get(reverse("actions:directive", args=[only_theirs.pk])).status_code == 404
    assert member.get(reverse("actions:directive", args=[unpublished.pk])).status_code == 404
    listing = member.get(reverse("actions:directives")).content.decode()
    assert both.reference in listing
    assert only_theirs.reference not in listing and unpublished.reference not in listing


def test_the_directive_list_filters_and_exports(ciso, cqo, unit):
    issued = services.issue_directive(actor=ciso, directive=draft(ciso, units=[unit]))
    draft(cqo, units=[unit], domain="quality", title="Quality gate")
    officer = signed_in(ciso)
    url = reverse("actions:directives")
    html = officer.get(url + "?status=issued").content.decode()
    assert issued.reference in html and "Quality gate" not in html
    table = csv_rows(officer.get(url + "?domain=quality&export=csv").content)
    assert table[0][:2] == ["Reference", "Title"]
    assert [row[1] for row in table[1:]] == ["Quality gate"]
    sheet = xlsx_rows(officer.get(url + "?status=issued&export=xlsx").content)
    assert [(row[0], row[5], row[6]) for row in sheet[1:]] == [(issued.reference, "PUBSEC", 1)]


def test_the_directive_list_costs_the_same_queries_for_3_and_30(ciso, unit, other_unit):
    def grow(n: int) -> None:
        for index in range(n):
            directive = draft(ciso, units=[unit, other_unit], title=f"D{index}")
            if index % 2:
                services.issue_directive(actor=ciso, directive=directive)

    assert_constant_queries(signed_in(ciso), reverse("actions:directives"), grow)


@pytest.mark.parametrize("role", ["ciso", "bu_member"])
def test_a_directive_page_costs_the_same_queries_for_3_and_30_actions(request, role, ciso, unit):
    client = signed_in(request.getfixturevalue(role))
    issued: list[Directive] = []

    def grow(n: int) -> None:
        # One action per matching system: issue afresh once n more systems match.
        for index in range(n):
            register(unit, f"sys-{len(issued)}-{index}", internet_facing=True)
        directive = draft(ciso, criteria={"units": [unit.code]})
        issued.append(services.issue_directive(actor=ciso, directive=directive))

    assert_constant_queries(
        client, lambda: reverse("actions:directive", args=[issued[-1].pk]), grow
    )
    assert issued[-1].actions.count() == 30


# --- Policy added for the pages --------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "security", "quality"),
    [
        ("ciso", True, False),
        ("cqo", False, True),
        ("chair", True, True),
        ("secretary", False, False),
        ("auditor", False, False),
        ("bu_head", False, False),
        ("bu_member", False, False),
    ],
)
def test_who_cancels_actions_and_withdraws_directives(request, role, security, quality):
    user = request.getfixturevalue(role)
    for domain, allowed in [("security", security), ("quality", quality)]:
        assert policy.can_cancel(user, Action(domain=domain)) is allowed
        assert policy.can_withdraw_directive(user, Directive(domain=domain)) is allowed


def test_the_api_and_the_pages_share_one_filter():
    assert api.ActionFilter is filters.ActionFilter
    assert api.DirectiveViewSet.filterset_class is filters.DirectiveFilter
    # The pages' are the API's, offered as a reader picks them (config.filters).
    assert issubclass(filters.ActionListFilter, filters.ActionFilter)
    assert issubclass(filters.DirectiveListFilter, filters.DirectiveFilter)


# --- The overdue trend -----------------------------------------------------------------------


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TOKYO)


def d(day: int) -> dt.date:
    return dt.date(2026, 3, day)


@pytest.fixture
def trend_data(unit, other_unit, ciso, bu_member, other_bu_member) -> dict[str, Action]:
    """Points on Mar 9, 16, 23 and 30 (today). Expected overdue, per point:
    A due Mar 5, never done                  1 1 1 1
    B due Mar 12, verified Mar 20            0 1 0 0
    C due Mar 8, cancelled Mar 23 (midday)   1 1 0 0
    D created Mar 10, due Mar 20             0 0 1 1
    E due Mar 30 (today): not yet overdue    0 0 0 0
    F other unit, due Mar 2, never done      1 1 1 1 (only for those who see every unit)"""
    made: dict[str, Action] = {}
    with time_machine.travel(at(d(1)), tick=False):
        made["A"] = task(unit, ciso, title="A", due_on=d(5))
        made["B"] = task(unit, ciso, title="B", due_on=d(12))
        made["C"] = task(unit, ciso, title="C", due_on=d(8))
        made["E"] = task(unit, ciso, title="E", due_on=d(30))
        made["F"] = task(other_unit, ciso, title="F", due_on=d(2))
    with time_machine.travel(at(d(10)), tick=False):
        made["D"] = task(unit, ciso, title="D", due_on=d(20))
    with time_machine.travel(at(d(18)), tick=False):
        submitted(made["B"], bu_member)
    with time_machine.travel(at(d(20)), tick=False):
        services.transition_action(actor=ciso, action=made["B"], act="verify")
    with time_machine.travel(at(d(23)), tick=False):
        services.transition_action(actor=ciso, action=made["C"], act="cancel", note="Moot")
    return made


def test_the_overdue_trend_counts_each_week_from_the_dates(trend_data, bu_member, ciso):
    with time_machine.travel(at(d(30), hour=9), tick=False):
        assert selectors.overdue_trend(bu_member, weeks=4) == [
            (d(9), 2),
            (d(16), 3),
            (d(23), 2),
            (d(30), 2),
        ]
        assert selectors.overdue_trend(ciso, weeks=4) == [
            (d(9), 3),
            (d(16), 4),
            (d(23), 3),
            (d(30), 3),
        ]
        # The latest point is today's overdue count.
        assert policy.visible_actions(ciso).overdue().count() == 3  # type: ignore[attr-defined]
        assert len(selectors.overdue_trend(ciso)) == 12


def test_the_overdue_trend_counts_a_withdrawn_directives_actions_as_closed(ciso, unit, bu_member):
    with time_machine.travel(at(d(1)), tick=False):
        directive = services.issue_directive(
            actor=ciso, directive=draft(ciso, units=[unit], deadline=d(5))
        )
    with time_machine.travel(at(d(12)), tick=False):
        services.withdraw_directive(actor=ciso, directive=directive, reason="Moot")
    with time_machine.travel(at(d(16)), tick=False):
        assert selectors.overdue_trend(bu_member, weeks=2) == [(d(9), 1), (d(16), 0)]


@pytest.mark.parametrize("role", ["ciso", "bu_member"])
def test_the_overdue_trend_is_one_aggregate_query_however_many_weeks(request, role, trend_data):
    user = request.getfixturevalue(role)
    counts = []
    for weeks in (1, 12, 52):
        with CaptureQueriesContext(connection) as ctx:
            selectors.overdue_trend(user, weeks=weeks)
        counts.append(len(ctx.captured_queries))
        aggregates = [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
        assert len(aggregates) == 1
    assert counts[0] == counts[1] == counts[2]


def test_pages_show_the_trend_read_within_minutes_shared_by_oversight(
    trend_data, bu_member, ciso, chair
):
    """Pages read the trend through a short cache: everyone who reads every unit shares one
    answer, a unit's people each have their own, and it is read again when it expires."""
    with time_machine.travel(at(d(30), hour=9), tick=False):
        assert selectors.overdue_trend_shown(ciso)[-1] == (d(30), 3)
        assert selectors.overdue_trend_shown(bu_member)[-1] == (d(30), 2)
    with time_machine.travel(at(d(28)), tick=False):
        task(trend_data["A"].unit, ciso, title="G", due_on=d(29))  # overdue by the 30th
    with time_machine.travel(at(d(30), hour=9), tick=False):
        with CaptureQueriesContext(connection) as ctx:
            assert selectors.overdue_trend_shown(chair)[-1] == (d(30), 3)  # the CISO's answer
            assert selectors.overdue_trend_shown(bu_member)[-1] == (d(30), 2)
        assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    cache.clear()  # as TREND_FRESH_FOR seconds later: the cache's own expiry, by its own clock
    with time_machine.travel(at(d(30), hour=10), tick=False):
        assert selectors.overdue_trend_shown(chair)[-1] == (d(30), 4)
        assert selectors.overdue_trend_shown(bu_member)[-1] == (d(30), 3)


# --- The chart -------------------------------------------------------------------------------


def test_the_chart_draws_a_bar_per_week_with_an_accessible_title():
    points = [(d(9), 2), (d(16), 30), (d(23), 0)]
    svg = str(charts.overdue_trend_svg(points))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'role="img"' in svg and 'aria-labelledby="overdue-trend-title overdue-trend-desc"' in svg
    assert '<title id="overdue-trend-title">Overdue actions, last 3 weeks</title>' in svg
    assert re.findall(r'data-count="(\d+)"', svg) == ["2", "30", "0"]
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert heights[1] > heights[0] > heights[2] == 0
    assert ">Week<" in svg and ">Overdue actions<" in svg
    assert "March 9" in svg and "March 23" in svg


def test_the_chart_escapes_its_identifier_and_copes_with_no_data():
    svg = str(charts.overdue_trend_svg([], chart_id='x"><script>'))
    assert "<script>" not in svg
    assert "There is no data to show yet." in svg
    assert "<rect" not in svg


def test_weeks_with_nothing_overdue_are_a_sentence_not_empty_axes():
    shown = str(charts.overdue_trend_svg([(d(9), 0), (d(16), 0), (d(23), 0)]))
    assert "<svg" not in shown and "<rect" not in shown
    assert shown == (
        '<p class="text-body-secondary mb-0" data-testid="overdue-trend-empty">'
        "No action was overdue in the last 3 weeks.</p>"
    )
    one = str(charts.overdue_trend_svg([(d(23), 0)], chart_id="mine"))
    assert 'data-testid="mine-empty">No action was overdue in the last 1 week.<' in one


def test_the_lists_status_badge_is_the_include_rendered_once_a_kind(unit, ciso):
    from django.template.loader import render_to_string
    from django.utils import translation

    from actions.templatetags.action_badges import action_status
    from tests.actions.conftest import task

    late, on_time = task(unit, ciso), task(unit, ciso)
    late.due_on = timezone.localdate() - dt.timedelta(days=3)  # as if time had passed
    for language in ("en", "ja"):
        with translation.override(language):
            for action in (late, on_time):
                assert str(action_status(action)) == render_to_string(
                    "actions/_status.html", {"action": action}
                )
    with translation.override("en"):
        english = str(action_status(late))
    with translation.override("ja"):
        assert str(action_status(late)) != english  # each language its own badge
    assert "Overdue" in english
