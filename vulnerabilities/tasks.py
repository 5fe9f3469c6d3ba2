"""Vulnerability work in the background: feeds, scanner reports, expiring acceptances, telling
the CISO."""

from __future__ import annotations

from urllib.parse import urlencode

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Office, OfficeCode, User
from actions.models import Notification
from config import mail
from vulnerabilities.models import Finding

KEV_STAGE = "kev_exposed"


def suspension_reason(finding: Finding) -> str:
    """The reason the suspension order offered to the CISO is written with."""
    return _(
        "%(key)s is exploited in the wild (CISA KEV), rated critical, and affects %(package)s "
        "%(version)s on this internet-facing system."
    ) % {
        "key": finding.vulnerability.key,
        "package": finding.package,
        "version": finding.version,
    }


@shared_task
def tell_ciso_of_exploited(finding_id: int) -> int:
    """The CISO hears at once of an exploited critical on an internet-facing system: an in-app
    notice on its remediation work and a mail with the suspension offered. Once per finding's
    work (the notice's unique stage); returns how many people were told."""
    finding = Finding.objects.select_related("system", "system__unit", "vulnerability").get(
        pk=finding_id
    )
    holder = Office.objects.filter(code=OfficeCode.CISO).values_list("holder", flat=True).first()
    if holder is None:
        return 0
    ciso = User.objects.get(pk=holder)
    if finding.action_id is not None:
        _notice, created = Notification.objects.get_or_create(
            recipient=ciso,
            action_id=finding.action_id,
            stage=KEV_STAGE,
            defaults={
                "message": _("%(key)s (KEV, critical) on internet-facing %(system)s")
                % {"key": finding.vulnerability.key, "system": finding.system.code}
            },
        )
        if not created:
            return 0
    if not ciso.email:
        return 1
    with translation.override(mail.language_of(ciso)):
        reason = suspension_reason(finding)
    context = {
        "finding": finding,
        "vulnerability": finding.vulnerability,
        "system": finding.system,
        "link": mail.link("vulnerabilities:finding", finding.pk),
        "suspend_link": mail.link("systems:suspend", finding.system.pk)
        + "?"
        + urlencode({"reason": reason}),
    }
    subject, body = mail.compose(
        "vulnerabilities/mail/exploited.txt",
        context,
        language=mail.language_of(ciso),
        subject=lambda: (
            _("[RCC] Exploited vulnerability on internet-facing %(system)s")
            % {"system": finding.system.code}
        ),
    )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [ciso.email])
    return 1


@shared_task
def reopen_expired_acceptances() -> int:
    """Daily: accepted risks whose date has passed open again."""
    from vulnerabilities.services import findings

    return findings.reopen_expired_acceptances()


@shared_task
def import_vulnerability_feeds() -> dict[str, str]:
    """Daily: every configured feed, each on its own (one refused does not stop the others)."""
    from django.core.exceptions import ValidationError

    from vulnerabilities.services import advisories

    outcomes = {}
    for kind, origin in advisories.configured_feeds():
        try:
            outcomes[origin] = advisories.import_origin(
                actor=None, kind=kind, origin=origin
            ).outcome
        except ValidationError as exc:
            outcomes[origin] = f"refused: {exc.messages[0]}"
    return outcomes


@shared_task(acks_late=True)
def import_scan(scan_id: int) -> str:
    """A big scanner report, read by a worker. Idempotent: a redelivery finds it imported."""
    from vulnerabilities.services import scans

    return scans.run(scan_id=scan_id).state


@shared_task
def take_back_interrupted_scans() -> dict[str, list[int]]:
    """Scans a dead process left importing are refused; long-queued ones are sent again."""
    from vulnerabilities.services import scans

    return scans.take_back_interrupted()
