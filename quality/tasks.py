"""Mail the CQO when a project is flagged (after commit)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise

from accounts.models import OfficeCode, User
from accounts.selectors import office_people
from config import mail
from quality.models import Indicator, QualityFlag


def cqo_people() -> QuerySet[User]:
    """The CQO's holder and anyone acting for the office now, who have an address."""
    people = office_people([OfficeCode.CQO])[OfficeCode.CQO]
    found = User.objects.filter(pk__in=people, is_active=True).exclude(email="")
    return found.order_by("pk").only("email", "language")


def indicator_names(keys: list[str]) -> list[StrOrPromise]:
    """The indicators a flag stores by key, by the names the CQO reads on the project's page
    (lazy: in the language of whoever reads them)."""
    return [Indicator(key).label if key in Indicator.values else key for key in keys]


@shared_task
def notify_flag(flag_id: int) -> int:
    """One mail to the CQO about a project turning red or trending there; returns how many
    people it went to."""
    flag = QualityFlag.objects.select_related("project", "project__unit", "report").get(pk=flag_id)
    project = flag.project
    context = {
        "flag": flag,
        "project": project,
        "report": flag.report,
        "red": indicator_names(flag.red),
        "trending": indicator_names(flag.trending),
        "link": mail.link("quality:project", project.pk),
    }
    sent = 0
    # One mail per language its readers read: each in theirs.
    for language, recipients in mail.by_language(cqo_people()).items():
        subject, body = mail.compose(
            "quality/mail/flag.txt",
            context,
            language=language,
            subject=lambda: (
                (
                    _("[RCC] %(project)s flagged: rated red")
                    if flag.red
                    else _("[RCC] %(project)s flagged: SPI or CPI falling three periods running")
                )
                % {"project": project.reference}
            ),
        )
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        sent += len(recipients)
    return sent
