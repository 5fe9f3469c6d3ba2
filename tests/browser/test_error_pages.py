"""The error pages in a real browser: a missing page is the product's own 404, styled, in the
reader's language, with a way back (screenshots in var/screenshots/error-404-*.png)."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_workflows import shot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(("locale", "language"), [("en-US", "en"), ("ja-JP", "ja")])
def test_a_missing_page_is_the_products_404_with_a_way_back(browser, live_server, locale, language):
    context = browser.new_context(base_url=live_server.url, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        answer = page.goto("/no-such-page/")
        assert answer is not None and answer.status == 404
        page.get_by_test_id("error-page").wait_for()
        assert page.locator("html").get_attribute("lang") == language
        # The site's stylesheets reached the browser (static files, whatever DEBUG says).
        navbar = page.locator("nav.navbar").evaluate("e => getComputedStyle(e).backgroundColor")
        assert navbar == "rgb(33, 37, 41)"
        assert page.request.get("/favicon.ico").status == 200  # redirected to the icon
        shot(page, f"error-404-{language}")
        page.get_by_test_id("home").click()
        page.wait_for_url(re.compile(r"/accounts/login/"))  # the way back, signed out
        assert refused == []
    finally:
        context.close()
