"""Mail the CQO when a project is flagged (after commit)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from accounts.models import OfficeCode, User
from accounts.selectors import office_people
from quality.models import QualityFlag


def cqo_addresses() -> list[str]:
    """The CQO's holder and anyone acting for the office now."""
    people = office_people([OfficeCode.CQO])[OfficeCode.CQO]
    found = User.objects.filter(pk__in=people, is_active=True).exclude(email="")
    return sorted(set(found.values_list("email", flat=True)))


@shared_task
def notify_flag(flag_id: int) -> int:
    """One mail to the CQO about a project turning red or trending there; returns how many
    people it went to."""
    flag = QualityFlag.objects.select_related("project", "project__unit", "report").get(pk=flag_id)
    recipients = cqo_addresses()
    if not recipients:
        return 0
    project = flag.project
    send_mail(
        f"[RCC] {project.reference} flagged: "
        + ("rated red" if flag.red else "SPI or CPI falling three periods running"),
        render_to_string(
            "quality/mail/flag.txt", {"flag": flag, "project": project, "report": flag.report}
        ),
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )
    return len(recipients)
