"""Every list page's filter bar looks and behaves the same: the shared include, "Any" first in
every drop-down, drop-downs (never a typed code) for known values, check boxes that send plain
repeated parameters for several values, and a 400 with the error for a value that does not parse."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from actions.models import Action
from tests.actions.conftest import task
from tests.cases.conftest import report, risk
from tests.committee.conftest import build_committee, make_meeting
from tests.factories import BusinessUnitFactory
from tests.quality.conftest import make_project
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db

# page, who reads it, the free-text fields it may have (searches, not codes), a bad value
PAGES = [
    ("actions:actions", "ciso", set(), {"status": "on-fire"}),
    ("actions:directives", "ciso", set(), {"status": "on-fire"}),
    ("cases:incidents", "chair", set(), {"severity": "apocalyptic"}),
    ("cases:risks", "chair", set(), {"residual_level": "extreme"}),
    ("systems:systems", "ciso", set(), {"status": "on-fire"}),
    ("quality:projects", "cqo", {"q"}, {"phase": "shipped"}),
    ("audit:events", "auditor", {"actor"}, {"office": "CTO"}),
    ("committee:meetings", "chair", set(), {"status": "postponed"}),
]
# Drop-downs that always hold one value, so have no "Any": the heat-map basis (residual unless
# a link says inherent).
ALWAYS_ONE = {"basis"}


class FilterBar(HTMLParser):
    """The filter bar's controls: selects with their options, inputs, and check-box lists."""

    def __init__(self) -> None:
        super().__init__()
        self.forms = 0
        self.inside = False
        self.selects: dict[str, dict[str, Any]] = {}
        self.inputs: list[dict[str, str]] = []
        self.summaries: dict[str, str] = {}
        self._select: str | None = None
        self._option: dict[str, Any] | None = None
        self._summary: str | None = None
        self._multi: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("data-testid") == "filters":
            self.forms += 1
            self.inside = True
        if not self.inside:
            return
        if tag == "select":
            self._select = a["name"]
            self.selects[a["name"]] = {"multiple": "multiple" in a, "options": []}
        elif tag == "option" and self._select:
            self._option = {"value": a.get("value", ""), "text": "", "selected": "selected" in a}
            self.selects[self._select]["options"].append(self._option)
        elif tag == "input":
            self.inputs.append(a)
        elif tag == "details":
            self._multi = a.get("data-testid", "").removeprefix("multi-")
        elif tag == "summary":
            self._summary = self._multi
            self.summaries[self._multi or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "summary":
            self._summary = None

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"] += data
        if self._summary is not None:
            self.summaries[self._summary] += data


def bar(html: str) -> FilterBar:
    parsed = FilterBar()
    parsed.feed(html)
    return parsed


@pytest.fixture
def rows(unit, other_unit, bu_member, bu_head, other_bu_member, ciso, cqo, secretary) -> None:
    """A record of each kind in two units, so every unit drop-down has something to offer."""
    for owner, member in ((unit, bu_member), (other_unit, other_bu_member)):
        system = register(owner, f"sys-{owner.code.lower()}")
        task(owner, ciso)
        report(owner, member)
        risk(owner, member)
        make_project(owner, member, system)
    make_meeting(build_committee(secretary), days=10)


@pytest.fixture
def reader(request, rows, login_as):
    def sign_in(role: str) -> Client:
        return login_as(request.getfixturevalue(role))

    return sign_in


@pytest.mark.parametrize(("name", "role", "free_text", "bad"), PAGES)
def test_every_list_uses_the_one_filter_bar(reader, name, role, free_text, bad):
    response = reader(role).get(reverse(name))
    assert response.status_code == 200
    assert "includes/filters.html" in [t.name for t in response.templates]
    form = bar(response.content.decode())
    assert form.forms == 1
    # Every drop-down opens on "Any" (an empty value), but the basis, which is always one.
    for field, select in form.selects.items():
        assert not select["multiple"], f"{field}: several values are check boxes"
        first = select["options"][0]
        if field in ALWAYS_ONE:
            assert first["value"] != "", field
            continue
        assert (first["value"], first["text"]) == ("", "Any"), (name, field, first)
    # Nothing to type but a search: known values are offered, never typed as codes.
    typed = {i["name"] for i in form.inputs if i.get("type") in {"text", "number", "search"}}
    assert typed == free_text, name
    # Several values: check boxes under the filter's own name, summed up as "Any" when none.
    boxes = {i["name"] for i in form.inputs if i.get("type") == "checkbox"}
    assert boxes == set(form.summaries), name
    assert all(text == "Any" for text in form.summaries.values()), form.summaries
    assert not [i for i in form.inputs if i.get("type") == "hidden"], name


@pytest.mark.parametrize(("name", "role", "free_text", "bad"), PAGES)
def test_a_value_that_does_not_parse_is_a_400_with_its_error_on_every_list(
    reader, name, role, free_text, bad
):
    response = reader(role).get(reverse(name), bad)
    assert response.status_code == 400, name
    field = next(iter(bad))
    assert f'data-testid="error-{field}"' in response.content.decode(), name
    assert 'data-testid="action-row"' not in response.content.decode()


def test_the_first_choice_reads_any_in_japanese_too(reader):
    client = reader("chair")
    with translation.override("ja"):
        response = client.get(reverse("cases:risks"), HTTP_ACCEPT_LANGUAGE="ja")
    form = bar(response.content.decode())
    assert form.selects["unit"]["options"][0]["text"] == "指定なし"
    assert form.summaries["status"] == "指定なし"


def test_several_values_are_plain_repeated_parameters(reader, unit, ciso):
    started = task(unit, ciso, title="Started")
    Action.objects.filter(pk=started.pk).update(status=Action.Status.IN_PROGRESS)
    client = reader("ciso")
    url = reverse("actions:actions")

    def listed(query: dict[str, Any]) -> set[str]:
        html = client.get(url, query).content.decode()
        return set(re.findall(r'data-testid="action-row" data-reference="([^"]+)"', html))

    everything = listed({})
    assert len(everything) == 3
    assert listed({"status": ["open", "in_progress"]}) == everything
    assert listed({"status": ["in_progress", "verified"]}) == {started.reference}
    assert listed({"status": "in_progress"}) == {started.reference}  # as a link writes one
    form = bar(client.get(url, {"status": ["open", "cancelled"]}).content.decode())
    ticked = {i["value"] for i in form.inputs if i["name"] == "status" and "checked" in i}
    assert ticked == {"open", "cancelled"}
    assert form.summaries["status"] == "Open, Cancelled"


def test_a_unit_member_is_offered_their_own_units_only(reader):
    for name in ("actions:actions", "cases:incidents", "cases:risks", "systems:systems"):
        form = bar(reader("bu_member").get(reverse(name)).content.decode())
        offered = [o["value"] for o in form.selects["unit"]["options"]]
        assert offered == ["", "PUBSEC"], (name, offered)
    form = bar(reader("bu_member").get(reverse("quality:projects")).content.decode())
    assert [o["value"] for o in form.selects["unit"]["options"]] == ["", "PUBSEC"]
    assert [o["value"] for o in form.selects["system"]["options"]] == ["", "sys-pubsec"]


def test_oversight_is_offered_every_unit(reader):
    """Those who read every unit may filter by any, a unit with nothing to show yet included;
    a unit's member only by the units they have rows of."""
    BusinessUnitFactory.create(code="QUIET", name="Quiet & Co")
    for name in ("actions:actions", "cases:incidents", "cases:risks", "systems:systems"):
        form = bar(reader("ciso").get(reverse(name)).content.decode())
        options = form.selects["unit"]["options"]
        assert [o["value"] for o in options] == ["", "CLOUD", "PUBSEC", "QUIET"], name
    assert options[3]["text"] == "QUIET — Quiet & Co"
    form = bar(reader("bu_member").get(reverse("actions:actions")).content.decode())
    assert [o["value"] for o in form.selects["unit"]["options"]] == ["", "PUBSEC"]
    response = reader("ciso").get(reverse("actions:actions"), {"unit": "QUIET"})
    assert response.status_code == 200
    assert 'data-testid="no-actions"' in response.content.decode()


def test_a_unit_not_offered_is_an_error_not_an_empty_list(reader):
    response = reader("bu_member").get(reverse("actions:actions"), {"unit": "CLOUD"})
    assert response.status_code == 400
    assert 'data-testid="error-unit"' in response.content.decode()


def test_the_action_lists_quick_view_rides_along_hidden(reader):
    html = reader("ciso").get(reverse("actions:actions"), {"overdue": "true"}).content.decode()
    assert '<input type="hidden" name="overdue" value="True">' in html


def test_drop_downs_are_written_as_django_would_write_them_escaped() -> None:
    """The filter bar's drop-downs and check-box lists are written without templates: the same
    elements, attributes and choice as Django's own widgets, every value and label escaped."""
    from django import forms
    from django.test.html import parse_html

    from config.filters import CheckboxDropdown, WrittenOptions

    parts = parse_html  # the same elements, attributes and text, whatever the spacing and order

    choices = [("", "Any"), ('a"<', "A & <b>"), ("b", "B"), ("Group", [("c", "C"), ("b", "B2")])]
    written = WrittenOptions(attrs={"class": "form-select"}, choices=choices)
    mine = written.render("unit", "b", {"id": "id_unit"})
    assert parts(mine) == parts(forms.Select.render(written, "unit", "b", {"id": "id_unit"}))
    assert mine.count(" selected") == 1 and "A &amp; &lt;b&gt;" in mine
    assert 'value="a&quot;&lt;"' in mine

    boxes = CheckboxDropdown(choices=[("open", "Open"), ("x<", "X & y")])
    mine = boxes._boxes("status", ["x<"], {"id": "id_status"})
    theirs = forms.CheckboxSelectMultiple.render(boxes, "status", ["x<"], {"id": "id_status"})
    assert parts(mine) == parts(theirs)
    assert mine.count(" checked") == 1 and "X &amp; y" in mine


def test_written_options_are_kept_per_choice_and_language() -> None:
    """A drop-down's options are written once for the same choices and choice: another choice,
    other choices or another language are written afresh."""
    from django.utils.translation import gettext_lazy

    from config.filters import ANY, WrittenOptions

    def options(value: str, *extra: tuple[str, Any]) -> str:
        choices = [("", ANY), ("a", gettext_lazy("Yes")), ("b", "B"), *extra]
        return WrittenOptions(choices=choices).render("x", value)

    assert options("a") == options("a")
    assert '<option value="a" selected>Yes</option>' in options("a")
    assert '<option value="b" selected>B</option>' in options("b")
    assert '<option value="c">C</option>' in options("a", ("c", "C"))
    with translation.override("ja"):
        japanese = options("a")
    assert ">指定なし</option>" in japanese
    assert ">はい</option>" in japanese and ">Any</option>" in options("a")
