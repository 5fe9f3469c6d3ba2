"""App configuration for accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and offices"

    def ready(self) -> None:
        # Login, logout and MFA events come from django.contrib.auth and allauth signals,
        # the only hook those frameworks offer; the receivers only write audit events.
        from accounts import receivers  # noqa: F401

        name_audit_values()


def name_audit_values() -> None:
    """The codes this app's audit events store, named for the trail's readers."""
    from allauth.mfa.models import Authenticator
    from django.conf import settings
    from django.utils.translation import gettext_lazy as _
    from django.utils.translation import pgettext_lazy

    from accounts.models import Domain, Membership, OfficeCode
    from audit.sentences import name_values

    name_values("", "domain", Domain.choices)
    name_values("", ("office", "owning_office"), OfficeCode.choices)
    name_values("unit.member_added", "kind", Membership.Kind.choices)
    name_values(
        "account.language_set",
        ("from", "to"),
        [("", _("The site's default")), *settings.LANGUAGES],
    )
    name_values("mfa.", "type", Authenticator.Type.choices)
    name_values(
        "auth.session_expired",
        "reason",
        [("idle", _("No activity for too long")), ("absolute", _("Longest session reached"))],
    )
    name_values(
        "auth.locked_out",
        "step",
        [
            ("password", pgettext_lazy("sign-in step", "Password")),
            ("code", pgettext_lazy("sign-in step", "Authenticator code")),
        ],
    )
