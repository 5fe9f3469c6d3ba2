"""The dashboard's heat maps in Debian's chromium, at a laptop's width: counts and labels large
enough to read, only the cells with risks lead anywhere; and a list's check-box filter sends
plain repeated parameters (screenshots in var/screenshots/dashboard-heatmap*.png)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.actions.conftest import task
from tests.browser.test_workflows import csp_violations, shot, signed_in
from tests.cases.conftest import risk, risk_matrix

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["risk_matrix"]  # the cases suite's fixture: a transactional test empties the matrix

LAPTOP = {"width": 1280, "height": 900}
SMALL_LAPTOP = {"width": 1000, "height": 800}  # Bootstrap's lg: the maps side by side, scaled


@pytest.mark.parametrize("viewport", [LAPTOP, SMALL_LAPTOP], ids=["xl", "lg"])
def test_the_dashboards_heat_maps_read_at_a_laptops_width(
    browser, live_server, unit, bu_member, chair, viewport
):
    for n in range(3):
        risk(unit, bu_member, title=f"Risk {n}", likelihood=5, impact=4)
    risk(unit, bu_member, title="Minor", likelihood=1, impact=2)
    page = signed_in(browser, live_server, chair)
    page.set_viewport_size(viewport)
    page.goto("/")
    heat = page.get_by_test_id("panel-heatmap")
    heat.wait_for()
    shot(page, f"dashboard-heatmap-{viewport['width']}")

    inherent = page.get_by_test_id("heatmap-inherent")
    box = inherent.bounding_box()
    assert box is not None and box["width"] >= 400, box
    # The count of a cell and the axis labels, as drawn on the screen (CSS pixels).
    count = inherent.locator("a text").first
    count_box = count.bounding_box()
    assert count_box is not None and count_box["height"] >= 15, count_box
    assert count.text_content() == "3"
    axis = inherent.locator("text", has_text="Likelihood")
    axis_box = axis.bounding_box()
    assert axis_box is not None and axis_box["width"] >= 10 and axis_box["height"] >= 50
    legend = inherent.get_by_test_id("heatmap-legend")
    assert legend.all_text_contents() == ["Very high", "High", "Moderate", "Low", "Very low"]
    legend_box = legend.first.bounding_box()
    assert legend_box is not None and legend_box["height"] >= 11, legend_box

    # Two cells have risks on the inherent map: only they are links.
    assert inherent.locator("a").count() == 2
    assert inherent.get_by_test_id("heatmap-cell").count() == 25
    inherent.locator('a[data-likelihood="5"][data-impact="4"]').click()
    page.wait_for_url(re.compile(r"/risks/\?"))
    assert page.get_by_test_id("risk-row").count() == 3
    assert csp_violations(page) == []


def test_an_empty_dashboard_says_so_in_sentences(browser, live_server, bu_member):
    page = signed_in(browser, live_server, bu_member)
    page.set_viewport_size(LAPTOP)
    page.goto("/")
    assert page.get_by_test_id("heatmap-inherent-empty").is_visible()
    assert page.get_by_test_id("overdue-trend-empty").is_visible()
    assert page.get_by_test_id("panel-heatmap").locator("svg").count() == 0
    shot(page, "dashboard-heatmap-empty")


def test_a_check_box_filter_sends_repeated_parameters(browser, live_server, unit, ciso):
    task(unit, ciso, title="Rotate the keys")
    page = signed_in(browser, live_server, ciso)
    page.set_viewport_size(LAPTOP)
    page.goto("/actions/")
    status = page.get_by_test_id("multi-status")
    assert status.locator("summary").inner_text() == "Any"
    status.locator("summary").click()
    page.get_by_label("Open", exact=True).check()
    page.get_by_label("In progress", exact=True).check()
    assert status.locator("summary").inner_text() == "Open, In progress"  # as they are ticked
    shot(page, "filters-several-statuses")
    page.get_by_test_id("filters").get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"status="))
    query = parse_qs(urlsplit(page.url).query)
    assert query["status"] == ["open", "in_progress"]
    assert page.get_by_test_id("multi-status").locator("summary").inner_text() == (
        "Open, In progress"
    )
    assert page.get_by_test_id("action-row").count() == 1
    # A click elsewhere closes an open drop-down, as a drop-down does.
    page.get_by_test_id("multi-status").locator("summary").click()
    page.locator("h1").click()
    assert page.get_by_test_id("multi-status").get_attribute("open") is None
    assert csp_violations(page) == []
