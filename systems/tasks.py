"""Mail the owning unit when one of its systems is suspended or reinstated (after commit)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from accounts.models import User
from systems.models import SuspensionOrder


@shared_task
def notify_suspension(order_id: int, event: str = "suspended") -> int:
    """One mail to the unit's head and members about `event` ("suspended" or "lifted"), so a
    quick suspend-then-lift sends one of each; returns how many people it went to."""
    order = SuspensionOrder.objects.select_related("system", "system__unit", "issued_by").get(
        pk=order_id
    )
    unit = order.system.unit
    recipients = sorted(
        set(
            User.objects.filter(is_active=True)
            .filter(pk__in=[unit.head_id] if unit.head_id else [])
            .values_list("email", flat=True)
        )
        | set(
            User.objects.filter(is_active=True, memberships__unit=unit)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
    recipients = [r for r in recipients if r]
    if not recipients:
        return 0
    lifted = event == "lifted"
    context = {"order": order, "system": order.system, "unit": unit, "lifted": lifted}
    subject = (
        f"[RCC] {order.system.code} reinstated"
        if lifted
        else f"[RCC] {order.system.code} suspended"
    )
    send_mail(
        subject,
        render_to_string("systems/mail/suspension.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )
    return len(recipients)
