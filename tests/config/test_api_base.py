"""The API's shared contract: schema, docs without a CDN, JSON errors, health."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIRequestFactory

from config.api import exception_handler

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_validates():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    for path in [
        "/api/v1/me/",
        "/api/v1/business-units/",
        "/api/v1/offices/",
        "/api/v1/audit-events/",
        "/api/v1/committees/",
        "/api/v1/meetings/",
        "/api/v1/meetings/{id}/agenda/",
        "/api/v1/meetings/{id}/decisions/",
        "/api/v1/meetings/{id}/ical/",
    ]:
        assert path in schema["paths"], path


def test_schema_is_served(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/me/" in response.json()["paths"]


def test_swagger_ui_is_served_without_any_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert (
        client.get(
            "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
        ).status_code
        == 200
    )


def test_django_validation_errors_become_400_with_field_errors():
    request = APIRequestFactory().get("/")
    response = exception_handler(
        DjangoValidationError({"due_date": ["Must be in the future."]}), {"request": request}
    )
    assert response is not None
    assert response.status_code == 400
    assert response.data == {"due_date": ["Must be in the future."]}
    plain = exception_handler(
        DjangoValidationError("Closed cases cannot change."), {"request": request}
    )
    assert plain is not None
    assert plain.status_code == 400
    assert plain.data == {"detail": ["Closed cases cannot change."]}


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_names_a_broker_that_is_down_and_keeps_the_node_in_service(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 200  # the web works without the broker (the outbox waits)
    assert response.json() == {"status": "degraded", "database": "ok", "broker": "error"}


def test_login_page_is_styled_and_served(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "auth-card" in html
    assert client.get("/static/vendor/bootstrap/bootstrap.min.css").status_code == 200
