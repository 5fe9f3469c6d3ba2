"""Import advisory feeds (OSV, NVD CVE 2.0, CISA KEV) from files or URLs, or the configured ones."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vulnerabilities.services import advisories


class Command(BaseCommand):
    help = (
        "Import advisories: --kind osv|nvd|kev with files or URLs (an OSV ecosystem's all.zip, "
        "an NVD feed file, the KEV catalogue), or no arguments for VULNERABILITY_FEEDS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("origins", nargs="*", help="Files or http(s) URLs.")
        parser.add_argument("--kind", choices=["osv", "nvd", "kev"])

    def handle(self, *args: Any, **options: Any) -> None:
        origins = options["origins"]
        if origins and not options["kind"]:
            raise CommandError("Say which kind of feed: --kind osv, nvd or kev.")
        named = [(options["kind"], origin) for origin in origins] or advisories.configured_feeds()
        if not named:
            raise CommandError("Name files or URLs, or set VULNERABILITY_FEEDS.")
        failed = False
        for kind, origin in named:
            try:
                feed = advisories.import_origin(actor=None, kind=kind, origin=origin)
            except ValidationError as exc:
                failed = True
                self.stderr.write(f"{origin}: refused: {'; '.join(exc.messages)}")
                continue
            self.stdout.write(f"{origin}: {feed.outcome} {feed.counts}")
        if failed:
            raise CommandError("Some feeds were refused; nothing of them was imported.")
