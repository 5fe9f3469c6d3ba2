"""Every verb the code records reads as a sentence, and details read as named values, in the
reader's language: nothing of the stored codes (verbs, statuses, JSON) reaches a person."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from actions.services import ACTION_FLOW
from audit import sentences
from audit.models import AuditEvent
from cases.services import INCIDENT_FLOW, RISK_FLOW
from systems.models import SuspensionOrder

ROOT = Path(settings.BASE_DIR)
SKIPPED = {".venv", "tests", "migrations", "bench", "var", "node_modules"}
# Functions that pass a verb through from their callers (whose verbs the scan finds).
PASS_THROUGH = {("audit/services.py", "verb"), ("accounts/services.py", "verb")}


def _incident_verb(act: str) -> str:
    # as cases.services.transition_incident spells it
    return f"incident.{act}d" if act.endswith("e") else f"incident.{act}ed"


# The verbs composed at run time, by the f-string's fixed start: every value each can take.
DYNAMIC = {
    "action.": {f"action.{to}" for flow in ACTION_FLOW.values() for to in flow.values()},
    "incident.": {_incident_verb(act) for act in INCIDENT_FLOW},
    "risk.": {f"risk.{to}" for flow in RISK_FLOW.values() for to in flow.values()},
    "suspension.": {
        f"suspension.{value}"
        for value in SuspensionOrder.Ratification.values
        if value != SuspensionOrder.Ratification.PENDING
    },
}


def _verbs_in(expression: ast.expr, where: str) -> set[str]:
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return {expression.value}
    if isinstance(expression, ast.IfExp):
        return _verbs_in(expression.body, where) | _verbs_in(expression.orelse, where)
    if isinstance(expression, ast.JoinedStr):
        start = expression.values[0]
        prefix = start.value if isinstance(start, ast.Constant) else ""
        assert prefix in DYNAMIC, f"{where}: a verb composed at run time; list its values here"
        return DYNAMIC[prefix]
    raise AssertionError(f"{where}: a verb the scan cannot read: {ast.unparse(expression)}")


def recorded_verbs() -> set[str]:
    """Every verb the product's code passes as `verb=`, found by reading the source."""
    found: set[str] = set()
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if SKIPPED & set(relative.parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg != "verb":
                    continue
                value = keyword.value
                if isinstance(value, ast.Name) and (str(relative), value.id) in PASS_THROUGH:
                    continue
                found |= _verbs_in(value, f"{relative}:{node.lineno}")
    return found


def test_the_scan_finds_the_verbs_it_should():
    verbs = recorded_verbs()
    # one of each kind: a plain literal, a conditional, each family composed at run time
    assert {"system.suspended", "auth.login", "audit.broken", "project.flag_cleared"} <= verbs
    assert {"action.verified", "incident.triaged", "incident.reopened"} <= verbs
    assert {"risk.retired", "suspension.overturned"} <= verbs
    assert len(verbs) > 80


def test_every_verb_the_code_records_has_a_sentence():
    missing = sorted(recorded_verbs() - set(sentences.VERBS))
    assert missing == [], f"add these to audit.sentences.VERBS: {missing}"


@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_sentence_fills_in_whatever_the_event_holds(language):
    """Placeholders a translation may misspell, or details an older event lacks, read as a
    dash: the page never fails on a sentence."""
    with translation.override(language):
        for verb, known in sentences.VERBS.items():
            event = AuditEvent(verb=verb, actor_label="ciso", office="CISO", target_label="X-1")
            text = sentences.sentence(event)
            assert text and "%(" not in text, verb
            assert str(known.name) and "." not in sentences.verb_name(verb), verb


def event(**fields) -> AuditEvent:
    fields.setdefault("actor_label", "ciso")
    return AuditEvent(**fields)


def test_a_sentence_names_who_acted_under_which_office_and_on_what():
    suspended = event(
        verb="system.suspended", office="CISO", target_label="ERP-01 — ERP core", details={}
    )
    assert sentences.sentence(suspended) == "ciso (CISO) suspended system ERP-01 — ERP core"
    html = sentences.sentence_html(suspended, href="/systems/5/")
    assert html == 'ciso (CISO) suspended system <a href="/systems/5/">ERP-01 — ERP core</a>'


def test_what_people_typed_is_escaped_in_the_page_sentence():
    removed = event(
        verb="agenda.item_removed",
        target_label="<b>March</b>",
        details={"title": '<script>alert("x")</script>', "item": 3, "reason": ""},
    )
    html = sentences.sentence_html(removed, href="/meetings/1/")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html
    assert '<a href="/meetings/1/">&lt;b&gt;March&lt;/b&gt;</a>' in html


def test_a_verb_nobody_named_yet_still_reads_as_words():
    unknown = event(verb="vendor.contract_signed", target_label="ACME")
    assert sentences.sentence(unknown) == "ciso recorded “vendor contract signed” on ACME"
    assert sentences.verb_name("vendor.contract_signed") == "Vendor contract signed"
    nobody = event(verb="nightly.cleanup", actor_label="", target_label="")
    assert sentences.sentence(nobody) == "The application recorded “nightly cleanup”"


def test_details_read_as_named_values_not_codes():
    verified = event(
        verb="action.verified",
        office="CQO",
        details={"from": "submitted", "to": "verified", "note": ""},
    )
    assert sentences.detail_rows(verified) == [
        ("Before", "Submitted for verification"),
        ("After", "Verified"),
    ]  # the empty note is left out
    decided = event(
        verb="decision.recorded",
        details={"outcome": "approved", "effect": "create_actions", "capacity": "chair"},
    )
    assert sentences.detail_rows(decided) == [
        ("Outcome", "Approved"),
        ("Effect", "Create actions"),
        ("Recorded as", "Committee chair"),
    ]
    assembled = event(verb="agenda.assembled", details={"added": 2, "items": ["incident:1"]})
    assert sentences.detail_rows(assembled) == [("Added", "2")]  # not its internal keys


def test_nested_details_indicators_criteria_and_changes_are_named():
    reported = event(
        verb="project.reported",
        target_label="PRJ-2026-0001 Rebuild",
        details={"period": "2026-03", "rag": "red", "ratings": {"spi": "red"}, "trending": ["cpi"]},
    )
    rows = dict(sentences.detail_rows(reported))
    assert rows["Ratings by indicator"] == "Schedule performance index (SPI): Red"
    assert rows["Falling three periods running"] == "Cost performance index (CPI)"
    assert sentences.sentence(reported).endswith("rated Red")
    drafted = event(
        verb="directive.drafted",
        details={"criteria": {"internet_facing": True, "criticality": ["high", "critical"]}},
    )
    assert sentences.detail_rows(drafted) == [
        ("Criteria", "Internet-facing: Yes; Criticality: High, Critical")
    ]
    changed = event(
        verb="incident.changed", details={"category": {"from": "other", "to": "data_leak"}}
    )
    assert sentences.detail_rows(changed) == [("Category", "Other → Data leak")]


def test_moments_are_shown_in_local_time_in_the_readers_format():
    moved = event(
        verb="meeting.rescheduled",
        target_label="March meeting",
        details={"from": "2026-03-10T01:00:00+00:00", "to": "2026-03-12T01:00:00+00:00"},
    )
    with translation.override("ja"):
        rows = dict(sentences.detail_rows(moved))
    assert list(rows.values()) == ["2026/03/10 10:00", "2026/03/12 10:00"]  # Asia/Tokyo


def test_details_are_named_in_the_readers_language():
    suspended = event(
        verb="system.suspended",
        office="CISO",
        target_label="ERP-01",
        details={"order": 3, "reason": "不正アクセス", "case": None},
    )
    verified = event(verb="action.verified", details={"to": "verified"})
    with translation.override("ja"):
        assert sentences.detail_rows(suspended) == [("停止命令", "3"), ("理由", "不正アクセス")]
        assert sentences.detail_rows(verified)[0][1] == "検証済み"


def test_the_sentence_is_in_the_readers_language():
    """Composed at display time: the same stored event reads in Japanese for a Japanese reader."""
    suspended = event(verb="system.suspended", office="CISO", target_label="ERP-01 — 基幹システム")
    published = event(
        verb="meeting.agenda_published", actor_label="secretary", target_label="3月度 委員会"
    )
    with translation.override("ja"):
        assert (
            sentences.sentence(suspended)
            == "ciso（CISO）がシステム ERP-01 — 基幹システム を停止しました"  # noqa: RUF001
        )
        assert sentences.sentence(published) == "secretaryが3月度 委員会の議題を公開しました"
        assert sentences.verb_name("system.suspended") == "システム停止"
    assert sentences.sentence(published) == "secretary published the agenda of 3月度 委員会"
