"""Sessions end after 30 idle minutes or 8 hours in all, whatever the person is doing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_idle_session_expires(login_as, bu_member):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = login_as(bu_member)
        assert client.get("/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=29 + 31), tick=False):
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert AuditEvent.objects.get(verb="auth.session_expired").details["reason"] == "idle"


def test_active_session_expires_after_the_absolute_limit(login_as, bu_member):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = login_as(bu_member)
    # Busy all day: a request every 20 minutes keeps the idle timer fresh...
    for minutes in range(20, 8 * 60, 20):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/").status_code == 200, minutes
    # ...but not past eight hours.
    with time_machine.travel(start + timedelta(hours=8, minutes=5), tick=False):
        response = client.get("/")
    assert response.status_code == 302
    assert AuditEvent.objects.get(verb="auth.session_expired").details["reason"] == "absolute"


def test_expired_api_session_is_unauthenticated(login_as, bu_member):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = login_as(bu_member)
        assert client.get("/api/v1/me/").status_code == 200
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert client.get("/api/v1/me/").status_code == 401
