"""The pages that matter, driven in Debian's chromium as people use them: the CISO suspends a
system, a unit submits evidence and the CISO verifies it, the chair reviews the agenda and the
secretariat records a decision that creates an action."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import Office
from actions.models import Action
from committee.models import Committee, CommitteeMember, Meeting
from systems import services as systems_services
from systems.models import System
from tests.actions.conftest import task
from tests.browser.test_sign_in import code_for, sign_in
from tests.cases.conftest import report
from tests.committee.conftest import begin
from tests.conftest import enrol_totp
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


# What the browser refused under the Content Security Policy, per page: must stay empty.
CSP_VIOLATIONS: dict[object, list[str]] = {}


def csp_violations(page) -> list[str]:
    return CSP_VIOLATIONS.get(page, [])


def signed_in(browser, live_server, user, *, locale: str = "en-US"):
    """A fresh browser session that signed in with password and a TOTP code."""
    secret = enrol_totp(user)
    context = browser.new_context(base_url=live_server.url, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    refused = CSP_VIOLATIONS.setdefault(page, [])
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    sign_in(page, user.username)
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", code_for(secret))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"://[^/]+/$"))  # the dashboard, not the 2FA page before it
    return page


def test_the_ciso_suspends_a_system_and_the_unit_sees_it_suspended(
    browser, live_server, ciso, unit, bu_member
):
    registrar = UserFactory.create(is_superuser=True, is_staff=True)
    system = systems_services.register_system(
        actor=registrar,
        unit=unit,
        code="project-share",
        name="Project sharing tool",
        internet_facing=True,
    )
    page = signed_in(browser, live_server, ciso)
    page.goto(f"/systems/{system.pk}/")
    page.fill("[data-testid=suspend-form] textarea[name=reason]", "Logins from an unknown network.")
    page.click("[data-testid=suspend-button]")
    page.get_by_test_id("confirm-suspension").wait_for()
    shot(page, "suspend-confirm")
    assert csp_violations(page) == []
    with page.expect_navigation(url=re.compile(rf"/systems/{system.pk}/$")):
        page.click("[data-testid=confirm-suspend]")
    assert System.objects.get(pk=system.pk).status == System.Status.SUSPENDED
    page.context.close()

    member = signed_in(browser, live_server, bu_member)
    member.goto(f"/systems/{system.pk}/")
    assert "Suspended" in member.get_by_test_id("system-status").inner_text()
    assert "unknown network" in member.get_by_test_id("active-order").inner_text()
    assert member.get_by_test_id("suspend-button").count() == 0
    assert member.get_by_test_id("lift-button").count() == 0
    shot(member, "suspended-seen-by-unit")
    member.context.close()


def test_a_member_submits_evidence_and_the_ciso_verifies(
    browser, live_server, tmp_path, ciso, unit, bu_member
):
    action = task(unit, ciso, title="Enforce MFA on the sharing tool", assignee=bu_member)
    evidence = tmp_path / "mfa-report.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% MFA enforced for all 212 accounts\n")

    page = signed_in(browser, live_server, bu_member)
    page.goto(f"/actions/{action.pk}/")
    assert page.get_by_test_id("act-verify").count() == 0
    with page.expect_navigation():
        page.click("[data-testid=act-start]")
    form = page.get_by_test_id("update-form")
    form.locator("textarea[name=note]").fill("MFA is on for every account; report attached.")
    form.locator("input[name=percent_done]").fill("100")
    form.locator("input[type=file]").set_input_files(str(evidence))
    with page.expect_navigation():
        page.click("[data-testid=add-update]")
    page.get_by_test_id("evidence").first.wait_for()
    with page.expect_navigation():
        page.click("[data-testid=act-submit]")
    shot(page, "action-submitted")
    page.context.close()
    assert Action.objects.get(pk=action.pk).status == Action.Status.SUBMITTED

    ciso_page = signed_in(browser, live_server, ciso)
    ciso_page.goto(f"/actions/{action.pk}/")
    assert ciso_page.get_by_test_id("act-submit").count() == 0
    assert "mfa-report.pdf" in ciso_page.get_by_test_id("evidence").first.inner_text()
    with ciso_page.expect_navigation():
        ciso_page.click("[data-testid=act-verify]")
    shot(ciso_page, "action-verified")
    assert csp_violations(ciso_page) == []
    ciso_page.context.close()
    verified = Action.objects.get(pk=action.pk)
    assert (verified.status, verified.verified_by) == (Action.Status.VERIFIED, ciso)


def committee_with_meeting(chair, ciso, cqo, secretary, *, name: str, title: str) -> Meeting:
    committee = Committee.objects.create(
        name=name, slug="rcc", chair_office=Office.objects.get(code="CEO")
    )
    for code in ("CISO", "CQO"):
        CommitteeMember.objects.create(committee=committee, office=Office.objects.get(code=code))
    committee.secretariat.add(secretary)
    starts = timezone.now() + dt.timedelta(days=3)
    return Meeting.objects.create(
        committee=committee, title=title, starts_at=starts, ends_at=starts + dt.timedelta(hours=2)
    )


def test_a_monthly_meeting_from_publication_to_approved_minutes(
    browser, live_server, chair, ciso, cqo, secretary, unit, bu_member
):
    """The whole month as the people in it live it, each step asked for by the page: publish
    (confirmed), review, attendance in one form once the meeting has begun, a decision that
    creates an action, held, minutes drafted from what was recorded, approved (confirmed)."""
    meeting = committee_with_meeting(
        chair, ciso, cqo, secretary, name="Risk Compliance Committee", title="RCC December"
    )
    incident = report(unit, bu_member, title="Certificates issued to the wrong residents")

    page = signed_in(browser, live_server, secretary)
    page.goto(f"/meetings/{meeting.pk}/")
    assert page.get_by_test_id("meeting-step").get_attribute("data-step") == "publish"
    with page.expect_navigation():
        page.get_by_test_id("publish-form").get_by_role("button").click()
    assert "goes by mail now" in page.get_by_test_id("confirm-consequences").inner_text()
    shot(page, "publish-confirm")
    with page.expect_navigation():
        page.click("[data-testid=confirm-submit]")
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.PUBLISHED

    chair_page = signed_in(browser, live_server, chair)
    chair_page.goto(f"/meetings/{meeting.pk}/")
    item = chair_page.get_by_test_id("agenda-item").first
    assert incident.reference in item.get_by_test_id("item-title").inner_text()
    assert item.get_by_test_id("record-link").count() == 1
    assert chair_page.get_by_test_id("meeting-step").get_attribute("data-step") == "review"
    assert chair_page.get_by_test_id("facts-frozen").count() == 1
    shot(chair_page, "agenda-review")

    begin(meeting)  # the day comes
    page.goto(f"/meetings/{meeting.pk}/attendance/")
    sheet = page.get_by_test_id("attendance-form")
    for person in ("chair", "ciso"):
        row = page.locator(f"[data-testid=roster-row][data-person={person}]")
        row.locator("select").select_option("present")
    shot(page, "attendance-sheet")
    with page.expect_navigation():
        sheet.get_by_test_id("save-attendance").click()
    assert page.locator("[data-met=yes]").count() >= 1
    page.goto(f"/meetings/{meeting.pk}/")
    page.get_by_test_id("decide").first.click()
    form = page.get_by_test_id("decision-form")
    form.locator("select[name=outcome]").select_option("approved")
    form.locator("textarea[name=text]").fill("PUBSEC checks every issued certificate.")
    form.locator("select[name=effect]").select_option("create_actions")
    due = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    form.locator("select[name=actions-0-unit]").select_option(value=unit.code)
    form.locator("input[name=actions-0-title]").fill("Check every issued certificate")
    form.locator("input[name=actions-0-due_on]").fill(due)
    with page.expect_navigation():
        form.get_by_role("button", name="Record the decision").click()
    shot(page, "decision-recorded")
    with page.expect_navigation():
        page.get_by_test_id("hold-form").get_by_role("button").click()
    page.goto(f"/meetings/{meeting.pk}/minutes/")
    draft = page.get_by_test_id("draft-form").locator("textarea")
    assert "PUBSEC checks every issued certificate." in draft.input_value()
    shot(page, "minutes-first-draft")
    with page.expect_navigation():
        page.get_by_test_id("draft-form").get_by_role("button").click()
    assert csp_violations(page) == []
    page.context.close()

    chair_page.goto("/")
    waiting = chair_page.get_by_test_id("panel-waiting")
    assert waiting.locator("[data-step=approve]").count() == 1
    shot(chair_page, "dashboard-waiting-for-the-chair")
    chair_page.goto(f"/meetings/{meeting.pk}/minutes/")
    with chair_page.expect_navigation():
        chair_page.get_by_test_id("approve-form").get_by_role("button").click()
    assert "locked" in chair_page.get_by_test_id("confirm-consequences").inner_text()
    shot(chair_page, "approve-confirm")
    with chair_page.expect_navigation():
        chair_page.click("[data-testid=confirm-submit]")
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.APPROVED
    assert csp_violations(chair_page) == []
    chair_page.context.close()

    created = Action.objects.get(title="Check every issued certificate")
    assert created.unit == unit
    assert created.origin_decision is not None
    assert created.origin_decision.meeting == meeting

    # The CISO, a member: the chair's code of this half-minute is spent (no replay).
    japanese = signed_in(browser, live_server, ciso, locale="ja-JP")
    japanese.goto(f"/meetings/{meeting.pk}/")
    assert japanese.locator("html").get_attribute("lang") == "ja"
    assert japanese.get_by_test_id("meeting-title").inner_text() == "RCC December"
    assert japanese.get_by_test_id("meeting-status").inner_text() == "議事録承認済み"
    shot(japanese, "approved-meeting-ja")
    japanese.context.close()
