"""An agenda item's facts, written by the agenda_facts tag, are the markup of the include they
replace, in both languages, with every value escaped."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation

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
        written = Template("{% load agenda_facts %}{% agenda_facts row %}").render(
            Context({"row": row})
        )
        included = Template(INCLUDE).render(Context({"row": row}))
    assert written == included
    if facts:
        assert "Open &lt;b&gt;&amp;" in written
    if frozen and facts and language == "ja":
        assert "now:" not in written  # the sentence is translated, not just the value
