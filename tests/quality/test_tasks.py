"""The CQO's mail about a flagged project names its indicators as the project's page does,
never by their keys, in the reader's language, and links to the project's page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from accounts.models import User
from quality.models import QualityFlag
from quality.tasks import notify_flag
from tests.mails import SITE_URL, formatted, links, opens, said
from tests.quality.conftest import month, report

pytestmark = pytest.mark.django_db

STAYS_FLAGGED = (
    "The project goes on the Risk Compliance Committee's next agenda. It stays flagged, and is "
    "not raised again, until a report rates it healthy."
)


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


def test_the_flag_mail_names_the_indicators(plain_project, bu_member, cqo):
    plain_project.name = "Certificates & seals"  # a plain-text mail: nothing HTML-escaped
    plain_project.save(update_fields=["name"])
    report(plain_project, bu_member, month(0), earned_value=Decimal("50000"))
    flag = QualityFlag.objects.get()
    assert "spi" in flag.red  # stored by key
    assert notify_flag(flag.pk) == 1
    [message] = mail.outbox
    rated = next(line for line in message.body.splitlines() if line.startswith("Rated red:"))
    assert "Schedule performance index (SPI)" in rated
    assert "Cost performance index (CPI)" in rated
    assert "spi" not in rated and "cpi" not in rated and "_" not in rated
    assert "Certificates & seals" in message.body


def test_the_flag_mail_links_the_project_in_english(login_as, plain_project, bu_member, cqo):
    report(plain_project, bu_member, month(0), earned_value=Decimal("50000"))
    assert notify_flag(QualityFlag.objects.get().pk) == 1
    [message] = mail.outbox
    body = message.body
    period = formatted("en", month(0), "YEAR_MONTH_FORMAT")
    assert f"is flagged by quality control after its {period} report." in body
    assert STAYS_FLAGGED in body
    assert links(body) == [f"{SITE_URL}/projects/{plain_project.pk}/"]
    opens(login_as(cqo), links(body)[0], "quality:project", plain_project.pk)


def test_the_flag_mail_is_written_in_the_readers_language(login_as, plain_project, bu_member, cqo):
    User.objects.filter(pk=cqo.pk).update(language="ja")
    report(plain_project, bu_member, month(0), earned_value=Decimal("50000"))
    assert notify_flag(QualityFlag.objects.get().pk) == 1
    [message] = mail.outbox
    assert message.subject == said(
        "ja", "[RCC] %(project)s flagged: rated red", project=plain_project.reference
    )
    body = message.body
    rated = next(line for line in body.splitlines() if line.startswith(said("ja", "Rated red:")))
    assert said("ja", "Schedule performance index (SPI)") in rated
    assert said("ja", "Cost performance index (CPI)") in rated
    assert formatted("ja", month(0), "YEAR_MONTH_FORMAT") in body
    assert said("ja", STAYS_FLAGGED) in body and "next agenda" not in body
    assert links(body) == [f"{SITE_URL}/projects/{plain_project.pk}/"]
    opens(login_as(cqo), links(body)[0], "quality:project", plain_project.pk)
