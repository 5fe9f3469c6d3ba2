"""The product's own 400, 403, 404 and 500 pages: the site's layout in the reader's language, why,
and a way back; the API keeps its JSON answers; the favicon is there."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.test import Client, RequestFactory, override_settings
from django.urls import include, path
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from config.api import server_error
from config.urls import handler400, handler403, handler404, handler500  # noqa: F401 (the map's)
from tests.conftest import SERVER_ERRORS

pytestmark = pytest.mark.django_db

REASON = "Only the CISO (or an acting delegate) may suspend a system."


def _refused_with_a_reason(request):
    raise PermissionDenied(REASON)


def _refused_bare(request):
    raise PermissionDenied


def _boom(request):
    raise RuntimeError("planted")


# The product's URL map and handlers, plus views that fail on purpose.
urlpatterns = [
    path("refused/", _refused_with_a_reason),
    path("refused-bare/", _refused_bare),
    path("boom/", _boom),
    path("api/boom/", _boom),
    path("", include("config.urls")),
]
with_failing_views = override_settings(ROOT_URLCONF=__name__)


def japanese(msgid: str) -> str:
    """What the catalogue says in Japanese (the text itself until the catalogue has it)."""
    with translation.override("ja"):
        return translation.gettext(msgid)


PRODUCT_JA = "リスクコンプライアンス委員会"


def assert_error_page(response, status: int, heading: str, *, language: str = "en") -> str:
    """The page is ours: the status, the site's layout, the language, a way back."""
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert f'<html lang="{language}">' in body
    assert 'data-testid="error-page"' in body and f'data-status="{status}"' in body
    assert 'class="navbar-brand fw-semibold" href="/"' in body  # the layout's own header
    assert 'href="/" data-testid="home"' in body
    expected = japanese(heading) if language == "ja" else heading
    assert expected in body, expected
    product = PRODUCT_JA if language == "ja" else "Risk Compliance Committee"
    assert f"· {product}</title>" in body
    assert "Traceback" not in body and "technical" not in body.lower()
    return body


# --- 404 ------------------------------------------------------------------------------------


def test_a_missing_page_is_the_products_404_in_english(client):
    body = assert_error_page(client.get("/no-such-page/"), 404, "This page does not exist")
    assert "Records you are not permitted to see are also reported as not found." in body
    assert 'data-testid="back"' not in body  # no page to go back to


@pytest.mark.parametrize("how", ["accept-language", "cookie"])
def test_the_404_is_in_japanese_for_a_japanese_reader(client, how):
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
        response = client.get("/no-such-page/")
    else:
        response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="ja")
    assert_error_page(response, 404, "This page does not exist", language="ja")


def test_a_signed_in_reader_keeps_the_navigation_and_can_go_back(login_as, bu_member):
    client = login_as(bu_member)
    response = client.get("/systems/999999/", HTTP_REFERER="http://testserver/systems/")
    body = assert_error_page(response, 404, "This page does not exist")
    assert 'data-testid="signed-in-as"' in body and 'href="/systems/"' in body
    assert 'href="http://testserver/systems/" data-testid="back"' in body
    assert 'data-testid="language-switcher"' in body


def test_the_way_back_never_leads_off_the_site_or_to_the_same_page(client):
    elsewhere = client.get("/no-such-page/", HTTP_REFERER="https://evil.example/phish")
    assert 'data-testid="back"' not in elsewhere.content.decode()
    itself = client.get("/no-such-page/", HTTP_REFERER="http://testserver/no-such-page/")
    assert 'data-testid="back"' not in itself.content.decode()


# --- 403 ------------------------------------------------------------------------------------


@with_failing_views
def test_a_403_says_why_in_the_words_of_the_refusal(client):
    body = assert_error_page(client.get("/refused/"), 403, "You may not do this")
    assert REASON in body


@with_failing_views
def test_a_403_without_a_reason_gives_the_general_one_in_japanese(client):
    response = client.get("/refused-bare/", HTTP_ACCEPT_LANGUAGE="ja")
    body = assert_error_page(response, 403, "You may not do this", language="ja")
    general = (
        "Your role, office or business unit does not give you access to this. "
        "If you need it, ask your unit head or an administrator."
    )
    assert japanese(general) in body


def test_a_read_only_record_refused_in_the_admin_is_the_products_403(login_as, admin_user):
    from audit import services as audit

    event = audit.record(actor=admin_user, verb="test.event")
    response = login_as(admin_user).post(
        f"/admin/audit/auditevent/{event.pk}/change/", {"verb": "rewritten"}
    )
    assert_error_page(response, 403, "You may not do this")


def test_a_form_with_a_stale_security_token_is_the_products_403(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"login": "someone", "password": "x"})
    body = assert_error_page(response, 403, "The form could not be accepted")
    assert "Nothing was saved." in body


# --- 400 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_malformed_request_is_the_products_400_with_what_was_wrong(client, language):
    response = client.generic(
        "POST",
        "/accounts/login/",
        b"login=a",
        content_type="application/x-www-form-urlencoded; charset=no-such-charset",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    body = assert_error_page(response, 400, "The request could not be processed", language=language)
    assert "no-such-charset" in body  # the reason, naming the charset


def test_a_foreign_host_is_a_400_page_that_reads_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/", HTTP_HOST="evil.example", HTTP_REFERER="http://evil.example/")
    body = assert_error_page(response, 400, "The request could not be processed")
    assert 'data-testid="back"' not in body
    assert 'data-testid="language-switcher"' not in body  # no request, so no CSRF token for it


# --- 500 ------------------------------------------------------------------------------------


@pytest.mark.server_error_expected
@with_failing_views
@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_server_error_is_the_products_500(language):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", HTTP_ACCEPT_LANGUAGE=language)
    body = assert_error_page(response, 500, "Something went wrong on our side", language=language)
    assert "planted" not in body  # nothing of the fault reaches the person
    assert len(SERVER_ERRORS.seen) == 1  # still logged as the 500 it is


def test_the_500_page_needs_neither_the_database_nor_the_user(django_assert_num_queries):
    def unavailable():
        raise OperationalError("the database is away")

    request = RequestFactory().get("/systems/", HTTP_ACCEPT_LANGUAGE="ja")
    request.user = SimpleLazyObject(unavailable)  # type: ignore[assignment]  # touching it raises
    with django_assert_num_queries(0):
        response = server_error(request)
    assert_error_page(response, 500, "Something went wrong on our side", language="ja")


# --- The API keeps its JSON ------------------------------------------------------------------


@pytest.mark.server_error_expected
@with_failing_views
def test_the_api_still_answers_every_error_in_json(api_client):
    assert api_client.get("/api/v1/nowhere/").json() == {"detail": "Not found."}
    refused = Client(raise_request_exception=False).get("/api/boom/")
    assert refused.status_code == 500 and refused["Content-Type"] == "application/json"
    assert refused.json()["code"] == "error"


# --- Favicon ---------------------------------------------------------------------------------


def test_the_favicon_is_linked_and_the_browsers_own_request_finds_it(client):
    page = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    asked = client.get("/favicon.ico")
    assert asked.status_code == 302 and asked["Location"] == "/static/favicon.svg"
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(icon.streaming_content)
