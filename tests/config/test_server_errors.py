"""The suite's own guard: a request that answers 500 anywhere in a test is seen (tests/conftest.py)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import include, path

from tests.conftest import SERVER_ERRORS


def _boom(request):
    raise RuntimeError("planted")


# The product's own routes too: its error pages link to them.
urlpatterns = [path("boom/", _boom), path("api/boom/", _boom), path("", include("config.urls"))]
handler500 = "config.api.server_error"


@pytest.mark.server_error_expected
@override_settings(ROOT_URLCONF=__name__)
def test_a_500_is_recorded_for_the_teardown_check():
    client = Client(raise_request_exception=False)
    assert client.get("/boom/").status_code == 500
    assert len(SERVER_ERRORS.seen) == 1
    api = client.get("/api/boom/")
    assert api.status_code == 500
    assert api["Content-Type"] == "application/json" and api.json()["detail"]
    assert len(SERVER_ERRORS.seen) == 2


@override_settings(ROOT_URLCONF=__name__)
def test_a_4xx_is_not_a_server_error():
    assert Client().get("/nowhere/").status_code == 404
    assert SERVER_ERRORS.seen == []
