"""App configuration for accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and offices"

    def ready(self) -> None:
        # Login, logout and MFA events come from django.contrib.auth and allauth signals,
        # the only hook those frameworks offer; the receivers only write audit events.
        from accounts import receivers  # noqa: F401
