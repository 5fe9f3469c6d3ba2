"""manage.py verify_audit: seal what waits, walk the hash chain and name the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit import services


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit non-zero naming the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        services.seal()  # what committed before the command ran is verified too
        result = services.verify_chain()
        if not result.ok:
            raise CommandError(
                f"Audit chain broken at event #{result.broken_at}: {result.problem} "
                f"({result.checked} events verified before it)."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {result.checked} events verified.")
        )
        if result.unsealed:  # committed while this ran: the next run verifies them
            self.stdout.write(
                f"{result.unsealed} event(s) written since wait to be sealed "
                f"(the oldest at {result.oldest_unsealed:%Y-%m-%d %H:%M:%S %Z})."
            )
