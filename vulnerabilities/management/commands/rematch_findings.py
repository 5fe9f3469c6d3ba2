"""Match every system's inventory against every advisory again (incremental matching keeps
findings current; this checks it and applies a change of the matching rules)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from vulnerabilities.services import findings


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = findings.rematch_all(actor=None)
        self.stdout.write(f"Findings changed: {dict(outcome.counts) or 'none'}")
