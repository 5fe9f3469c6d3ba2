"""The audit trail's date filters out of range: a 400 naming the filter (on the page, the form
shown again with its error and no rows), never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.dates import Door, assert_refused, filter_door

pytestmark = pytest.mark.django_db


def doors() -> list[Door]:
    def api(name: str) -> Door:
        return filter_door("api-get", "auditor", name, "/api/v1/audit-events/")

    def page(name: str) -> Door:
        return filter_door("page-get", "auditor", name, "/audit/")

    return [api("occurred_after"), api("occurred_before"), page("date_from"), page("date_to")]


@pytest.mark.parametrize("door", doors(), ids=str)
def test_a_date_out_of_range_is_a_400_naming_the_filter(door, request, login_as):
    client: Client = login_as(request.getfixturevalue(door.who))
    for value in door.values:
        assert_refused(door, client, value)


def test_the_last_day_of_the_window_still_filters(login_as, auditor):
    client = login_as(auditor)
    assert client.get("/audit/", {"date_to": "2100-12-31"}).status_code == 200
    response = client.get("/api/v1/audit-events/", {"occurred_before": "2100-12-31T23:59:59-14:00"})
    assert response.status_code == 200
