"""manage.py load_demo: the demo organisation, idempotent, refused unless DEMO_MODE is on."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import demo
from audit import services as audit
from cases.demo import seed_cases
from committee.demo import seed_committee
from quality.demo import seed_quality
from systems.demo import seed_systems
from vulnerabilities.demo import seed_scans, seed_vulnerabilities


class Command(BaseCommand):
    help = (
        "Load the demo organisation (users, offices, units, systems, cases, quality projects, "
        "the committee and its meetings). Refused unless DEMO_MODE is on."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError(
                "load_demo is refused: DEMO_MODE is off. It creates users with a published "
                "password, so it runs only on a demo site (set DEMO_MODE=1)."
            )
        with transaction.atomic():
            logins = demo.seed_organisation()
            seed_systems()
            seed_cases()
            seed_quality()
            seed_vulnerabilities()
            seed_scans()
            committee = seed_committee()
        audit.seal()  # the demo's trail reads chained from the first page view
        issuer = quote(settings.MFA_TOTP_ISSUER)
        self.stdout.write(self.style.SUCCESS(f"Demo organisation ready: {len(logins)} users."))
        for meeting in committee.meetings.order_by("starts_at")[:3]:
            items = meeting.items.filter(removed_at__isnull=True).count()
            local = meeting.starts_at.astimezone(committee.zone)
            self.stdout.write(
                f"  {local:%Y-%m-%d %H:%M %Z}  {meeting.title}: {items} agenda item(s)"
            )
        self.stdout.write(f"Every demo user's password: {demo.DEMO_PASSWORD}")
        self.stdout.write("TOTP secrets (add to an authenticator app, or use the otpauth URI):")
        for login in logins:
            uri = f"otpauth://totp/{issuer}:{login.username}?secret={login.totp_secret}&issuer={issuer}"
            self.stdout.write(f"  {login.username:<16} {login.totp_secret}  {uri}")
