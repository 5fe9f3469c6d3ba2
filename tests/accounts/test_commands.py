"""Operations commands: issue_api_token prints a working token once."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from knox.models import AuthToken

pytestmark = pytest.mark.django_db


def test_issue_api_token_prints_a_token_that_authenticates(client, bu_member):
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_api_token", "bu_member", "--days", "7", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert "expires" in err.getvalue()
    assert AuthToken.objects.filter(user=bu_member).count() == 1
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert response.json()["username"] == "bu_member"


def test_issue_api_token_for_an_unknown_user_is_a_clear_error():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("issue_api_token", "ghost")


@pytest.mark.parametrize("days", ["1000"])
def test_issue_api_token_refuses_a_token_that_would_live_for_years(bu_member, days):
    from knox.models import AuthToken

    with pytest.raises(CommandError, match="between 1 and 365 days"):
        call_command("issue_api_token", "bu_member", "--days", days)
    assert not AuthToken.objects.exists()


def test_issue_api_token_refuses_zero_days(bu_member):
    with pytest.raises(CommandError, match="between 1 and 365 days"):
        call_command("issue_api_token", "bu_member", "--days", "0")
