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


@pytest.mark.django_db(transaction=True)
def test_tokens_made_without_an_expiry_get_one_from_the_migration(bu_member):
    """knox's own admin let an administrator leave a token's expiry empty; migration 0004
    gives every such token one, and caps any that would outlive a year."""
    import datetime as dt

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone
    from knox.models import AuthToken

    forever, _ = AuthToken.objects.create(user=bu_member, expiry=None)
    decade, _ = AuthToken.objects.create(user=bu_member, expiry=dt.timedelta(days=3650))
    month, _ = AuthToken.objects.create(user=bu_member, expiry=dt.timedelta(days=30))
    month_expiry = AuthToken.objects.get(pk=month.pk).expiry
    assert AuthToken.objects.get(pk=forever.pk).expiry is None
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("accounts", "0003_business_unit_group")])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    now = timezone.now()
    expiries = dict(AuthToken.objects.values_list("pk", "expiry"))
    assert 89 <= (expiries[forever.pk] - now).days <= 90
    assert 364 <= (expiries[decade.pk] - now).days <= 365
    assert expiries[month.pk] == month_expiry
