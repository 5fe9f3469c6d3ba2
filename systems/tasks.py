"""Mail the owning unit when one of its systems is suspended or reinstated (after commit)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from config import mail
from systems.models import SuspensionOrder


@shared_task
def notify_suspension(order_id: int, event: str = "suspended") -> int:
    """One mail to the unit's head and members about `event` ("suspended" or "lifted"), so a
    quick suspend-then-lift sends one of each; returns how many people it went to."""
    order = SuspensionOrder.objects.select_related(
        "system", "system__unit", "issued_by", "lifted_by"
    ).get(pk=order_id)
    unit = order.system.unit
    readers = (
        User.objects.filter(is_active=True)
        .filter(Q(pk=unit.head_id) | Q(memberships__unit=unit))
        .exclude(email="")
        .distinct()
        .order_by("pk")
        .only("email", "language")
    )
    lifted = event == "lifted"
    context = {
        "order": order,
        "system": order.system,
        "unit": unit,
        "lifted": lifted,
        "link": mail.link("systems:system", order.system.pk),
    }
    code = order.system.code
    sent = 0
    # One mail per language its readers read: each in theirs.
    for language, recipients in mail.by_language(readers).items():
        subject, body = mail.compose(
            "systems/mail/suspension.txt",
            context,
            language=language,
            subject=lambda: (
                (_("[RCC] %(system)s reinstated") if lifted else _("[RCC] %(system)s suspended"))
                % {"system": code}
            ),
        )
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        sent += len(recipients)
    return sent
