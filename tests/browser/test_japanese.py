"""The pages in Japanese, in a real browser: every page a committee member opens shows no
untranslated English (the data is typed in Japanese, so any English left is the product's)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import BusinessUnit, Office
from actions import services as actions_services
from cases import services as cases_services
from cases.matrix import load_nist_matrix
from committee import services as committee_services
from committee.models import Committee, CommitteeMember, Meeting
from systems import services as systems_services
from tests.browser.test_workflows import csp_violations, shot, signed_in
from tests.factories import BusinessUnitFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Two or more English words in a row: a sentence or a label the translation missed. Codes,
# references and names are single tokens (CISO, INC-2026-0001, pubsec-member) and pass.
# (Table cells are separated by tabs in the page's text: only spaces join words.)
ENGLISH = re.compile("\\b[A-Za-z][a-z'\u2019]+(?: +[A-Za-z][a-z'\u2019]+)+\\b")
ALLOWED = {
    "English",  # the language switcher names each language in itself
    "like Gecko",  # the browser's user agent, recorded with the sign-in in the audit trail
}


def seed(chair, ciso, cqo, secretary) -> dict[str, int]:
    """A month of the committee's work, typed in Japanese as a Japanese company would."""
    load_nist_matrix()  # a transactional test before this one may have emptied the table
    unit = BusinessUnitFactory.create(code="PUBSEC", name="公共事業部")
    member = UserFactory.create(username="pubsec-member", display_name="佐藤 健二")
    MembershipFactory.create(user=member, unit=unit)
    accounts_services.sync_unit_group(unit=unit)
    for person, name in ((chair, "山田 太郎"), (ciso, "鈴木 一郎"), (cqo, "高橋 花子")):
        person.display_name = name
        person.save()
    secretary.display_name = "田中 美咲"
    secretary.save()
    registrar = UserFactory.create(is_superuser=True, is_staff=True, display_name="管理者")
    system = systems_services.register_system(
        actor=registrar,
        unit=unit,
        code="cert-issuance",
        name="住民票証明書発行システム",
        internet_facing=True,
        handles_personal_data=True,
    )
    incident = cases_services.report_incident(
        actor=member,
        unit=unit,
        title="他の住民の証明書が印刷された",
        description="コンビニ交付で別人の証明書が出力された。",
        category="personal_data_misissue",
        severity="critical",
        domain="quality",
        detected_at=timezone.now() - dt.timedelta(hours=3),
        personal_data_involved=True,
        affected_systems=[system],
    )
    systems_services.suspend_system(
        actor=ciso, system=system, reason="個人情報の誤交付のため直ちに停止する。"
    )
    risk = cases_services.register_risk(
        actor=member,
        unit=unit,
        owner=member,
        title="発行処理の一意性が保証されていない",
        likelihood=4,
        impact=5,
    )
    action = actions_services.create_action(
        actor=cqo,
        unit=unit,
        title="発行処理に排他制御を導入する",
        due_on=timezone.localdate() + dt.timedelta(days=10),
        domain="quality",
    )
    directive = actions_services.draft_directive(
        actor=ciso,
        title="全ての公開システムでMFAを必須にする",
        body="期限までに全アカウントでMFAを有効化すること。",
        deadline=timezone.localdate() + dt.timedelta(days=30),
        units=[unit],
    )
    actions_services.issue_directive(actor=ciso, directive=directive)
    committee = Committee.objects.create(
        name="リスクコンプライアンス委員会",
        slug="rcc",
        chair_office=Office.objects.get(code="CEO"),
        location="本社21階役員会議室",
    )
    for code in ("CISO", "CQO"):
        CommitteeMember.objects.create(committee=committee, office=Office.objects.get(code=code))
    committee.secretariat.add(secretary)
    starts = timezone.now() + dt.timedelta(days=3)
    meeting = Meeting.objects.create(
        committee=committee,
        title="12月度 リスクコンプライアンス委員会",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
    )
    committee_services.publish_agenda(actor=secretary, meeting=meeting)
    return {
        "system": system.pk,
        "incident": incident.pk,
        "risk": risk.pk,
        "action": action.pk,
        "directive": directive.pk,
        "meeting": meeting.pk,
    }


def english_on(page) -> list[str]:
    text = page.locator("body").inner_text()
    return sorted({run for run in ENGLISH.findall(text) if run not in ALLOWED})


def test_the_pages_in_japanese_show_no_untranslated_english(
    browser, live_server, chair, ciso, cqo, secretary
):
    ids = seed(chair, ciso, cqo, secretary)
    page = signed_in(browser, live_server, chair, locale="ja-JP")
    paths = [
        "/",
        "/meetings/",
        f"/meetings/{ids['meeting']}/",
        f"/meetings/{ids['meeting']}/attendance/",
        "/incidents/",
        f"/incidents/{ids['incident']}/",
        "/risks/",
        "/risks/heatmap/",
        f"/risks/{ids['risk']}/",
        "/systems/",
        f"/systems/{ids['system']}/",
        "/actions/",
        f"/actions/{ids['action']}/",
        "/directives/",
        f"/directives/{ids['directive']}/",
        "/audit/",
    ]
    found: dict[str, list[str]] = {}
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert page.locator("html").get_attribute("lang") == "ja", path
        english = english_on(page)
        if english:
            found[path] = english
        name = "ja-" + (path.strip("/").replace("/", "-") or "dashboard")
        shot(page, name)
    violations = csp_violations(page)
    page.context.close()
    assert not found, f"untranslated English: {found}"
    assert violations == [], violations  # every page works under the Content Security Policy
    assert BusinessUnit.objects.get(code="PUBSEC").name == "公共事業部"
