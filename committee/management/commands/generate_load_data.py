"""manage.py generate_load_data --scale N: a company-sized data set for the benchmarks (bench/)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from committee.load_data import Generator, sizes


class Command(BaseCommand):
    help = (
        "Fill a fresh PostgreSQL database with a company-sized data set (scale 1: 500 units, "
        "20,000 people, 10,000 systems, 50,000 incidents and risks, 1,000,000 actions, "
        "2,000,000 components, 250,000 affected ranges)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0, help="1 is company size.")
        parser.add_argument("--seed", type=int, default=8, help="Same seed, same rows.")
        parser.add_argument(
            "--add-vulnerabilities",
            action="store_true",
            help="Only add components and advisories to a database generated without them.",
        )

    def handle(
        self, *args: Any, scale: float, seed: int, add_vulnerabilities: bool, **options: Any
    ) -> None:
        if not 0 < scale <= 10:
            raise CommandError("--scale must be above 0 and at most 10.")
        self.stdout.write(f"Generating at scale {scale:g} (seed {seed}): {sizes(scale)}")
        try:
            generator = Generator(scale=scale, seed=seed)
            if add_vulnerabilities:
                counts = generator.add_vulnerabilities(progress=self.stdout.write)
            else:
                counts = generator.run(progress=self.stdout.write)
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Written: {counts}"))
