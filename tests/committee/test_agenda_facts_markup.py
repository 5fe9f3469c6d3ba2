"""An agenda item and its facts, written by the agenda_items tags, are the markup of the
template they replace, in both languages, with every value escaped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from accounts.models import BusinessUnit
from committee.facts import Fact
from committee.models import AgendaItem
from committee.views.common import AgendaRow, Link

# The include the tag replaces, as it stood.
INCLUDE = (
    '{% load i18n %}{% if row.facts %}{% if row.item.facts_frozen is not None %}<p class="small '
    'text-secondary mb-1" data-testid="facts-frozen">{% translate "As the agenda was published; '
    'what has changed since is marked now." %}</p>{% endif %}<dl class="row small mb-2" '
    'data-testid="facts">\n  {% for fact in row.facts %}<dt class="col-sm-3 col-lg-2 '
    'text-secondary fw-normal">{{ fact.label }}</dt><dd class="col-sm-9 col-lg-10 mb-1">'
    '{{ fact.value }}{% if fact.now is not None %} <span class="badge text-bg-warning" '
    'data-testid="fact-now">{% blocktranslate with now=fact.now %}now: {{ now }}'
    "{% endblocktranslate %}</span>{% endif %}</dd>{% endfor %}\n</dl>{% endif %}\n"
    '{% if row.link %}<a class="small d-print-none" href="{{ row.link.href }}" '
    'data-testid="record-link">{{ row.link.words }}</a>{% endif %}\n'
)

FACTS = [
    Fact("Severity", "High"),
    Fact("Status", "Open <b>&", now="Closed \"quoted\" & 'single'"),
    Fact("Due", "2027-01-12", now=None),
]


def _row(*, frozen: bool, facts: list[Fact], link: Link | None) -> AgendaRow:
    item = AgendaItem(kind=AgendaItem.Kind.RISK, facts_frozen={"x": 1} if frozen else None)
    return AgendaRow(item=item, facts=facts, decision=None, link=link)


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("frozen", [True, False])
@pytest.mark.parametrize("facts", [FACTS, []])
@pytest.mark.parametrize(
    "link", [Link("/risks/7/?a=1&b=<2>", "Open the risk <now>"), None], ids=["link", "none"]
)
def test_the_tag_writes_what_the_include_wrote(language, frozen, facts, link) -> None:
    row = _row(frozen=frozen, facts=facts, link=link)
    with translation.override(language):
        written = Template("{% load agenda_items %}{% agenda_facts row %}").render(
            Context({"row": row})
        )
        included = Template(INCLUDE).render(Context({"row": row}))
    assert written == included
    if facts:
        assert "Open &lt;b&gt;&amp;" in written
    if frozen and facts and language == "ja":
        assert "now:" not in written  # the sentence is translated, not just the value


# The meeting page's loop over its items as it stood, before agenda_item wrote each one.
ITEMS = (Path(__file__).parent / "agenda_item_as_template.html").read_text()


def _items() -> list[AgendaRow]:
    unit = BusinessUnit(pk=3, code="PUB<", name='Public "sector" & co')
    plain = AgendaItem(pk=11, kind=AgendaItem.Kind.INCIDENT)
    marked = AgendaItem(
        pk=12,
        kind=AgendaItem.Kind.ESCALATED_ACTION,
        unit=unit,
        added_after_publication=True,
        discussed_at=dt.datetime(2027, 1, 12, 1, 0, tzinfo=dt.UTC),
        facts_frozen={"x": 1},
    )
    refused = AgendaItem(pk=13, kind=AgendaItem.Kind.RISK, unit=unit)
    return [
        AgendaRow(item=plain, facts=FACTS[:1], decision=None, heading="INC-1 <b>Outage</b>"),
        AgendaRow(
            item=marked,
            facts=FACTS,
            decision=None,
            overdue=True,
            heading="PUB: escalated & late",
            summary="Two actions:\nACT-1 <late>\nACT-2",
            link=Link("/actions/?unit=PUB%3C&a=1", "Open the unit's escalated actions"),
            move_url="/meetings/1/items/12/move/",
            remove_url="/meetings/1/items/12/remove/",
            decide_url="/meetings/1/items/12/decide/",
        ),
        AgendaRow(
            item=refused,
            facts=[],
            decision=None,
            heading="RSK-1",
            remove_reason='Dup "of" <RSK-2>',
            remove_errors=["Say why <please>.", "Again & again"],
            move_url="/m/13/",
            remove_url="/r/13/",
            decide_url="/d/13/",
        ),
    ]


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize(("editable", "can_decide"), [(True, False), (False, True), (False, False)])
def test_each_item_is_written_as_the_template_wrote_it(language, editable, can_decide) -> None:
    context = {
        "rows": _items(),
        "editable": editable,
        "can_decide": can_decide,
        "csrf_token": 'tok"en<',
    }
    written_loop = (
        "{% load agenda_items %}{% for row in rows %}"
        "{% agenda_item row forloop.counter forloop.first forloop.last %}{% endfor %}"
    )
    with translation.override(language):
        written = Template(written_loop).render(Context(context))
        templated = Template(ITEMS).render(Context(context))
    assert parse_html(written) == parse_html(templated)
    assert written.count('data-testid="agenda-item"') == 3
    assert "&lt;b&gt;Outage&lt;/b&gt;" in written and "ACT-1 &lt;late&gt;<br>" in written
    assert ('data-testid="item-controls"' in written) is editable
    assert ('data-testid="decide"' in written) is can_decide
    if editable:
        assert written.count(" disabled") == 2  # the first can't go up, the last can't go down
        assert 'value="tok&quot;en&lt;"' in written
        assert "Say why &lt;please&gt;." in written
