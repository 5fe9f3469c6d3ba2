"""manage.py issue_api_token USER [--days N]: print a new API token for an integration."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Issue a hashed, revocable API token for USER and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--days",
            type=int,
            default=services.DEFAULT_TOKEN_DAYS,
            help=f"Expire after N days (default {services.DEFAULT_TOKEN_DAYS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"No user named {options['username']!r}.") from None
        try:
            instance, token = services.issue_api_token(actor=None, user=user, days=options["days"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stderr.write(
            f"Token for {user.username} (expires {instance.expiry.isoformat()}); shown once:"
        )
        self.stdout.write(token)
