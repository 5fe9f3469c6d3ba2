"""People and the offices they hold: users, business units, memberships, offices, delegations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

if TYPE_CHECKING:
    from datetime import datetime


class Role(models.TextChoices):
    """Role groups, created by a data migration; a person may hold several."""

    CHAIR = "chair", _("Committee chair")
    CXO = "cxo", _("CxO (committee member)")
    SECRETARY = "secretary", _("Committee secretariat")
    BU_HEAD = "bu_head", _("Business-unit head")
    BU_MEMBER = "bu_member", _("Business-unit member")
    QUALITY_REVIEWER = "quality_reviewer", _("Quality reviewer (Quality HQ)")
    AUDITOR = "auditor", _("Auditor")


class OfficeCode(models.TextChoices):
    """The offices the product knows by name; more can be added as rows."""

    CEO = "CEO", _("Chief Executive Officer")
    CISO = "CISO", _("Chief Information Security Officer")
    CQO = "CQO", _("Chief Quality Officer")
    CFO = "CFO", _("Chief Financial Officer")
    CHRO = "CHRO", _("Chief Human Resources Officer")


class Domain(models.TextChoices):
    """Which governance domain an office, case or action belongs to."""

    SECURITY = "security", _("Security")
    QUALITY = "quality", _("Quality")
    OTHER = "other", _("Other")


class User(AbstractUser):
    """A person who signs in. Never deleted: deactivate instead, so the audit trail keeps its actors."""

    display_name = models.CharField(max_length=150, blank=True)
    # Mail is composed at sending time, far from any request: this is the language it is
    # written in. Set when the person picks a language on the site; blank is the site's own.
    language = models.CharField(
        _("Language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("The language of the mail this person receives; blank: the site's default."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class BusinessUnit(models.Model):
    """An organisational unit that owns systems, cases and actions; units nest under a parent."""

    code = models.SlugField(max_length=32, unique=True, help_text="Short code, e.g. 'PUBSEC'.")
    name = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="headed_units",
    )
    is_active = models.BooleanField(default=True)
    group = models.OneToOneField(
        Group,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="business_unit",
        help_text="Holds the unit's head and members; object grants go to this group.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["group"])

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="business_unit_not_own_parent"
            )
        ]

    def __str__(self) -> str:
        return self.named(self.code, self.name)

    @staticmethod
    def named(code: str, name: str) -> str:
        """How a unit is named wherever it is listed: its code, then its name."""
        return f"{code} — {name}"


class Membership(models.Model):
    """A person's membership of a business unit, which scopes what they see and change."""

    class Kind(models.TextChoices):
        MEMBER = "member", _("Member")
        SECURITY_OFFICER = "security_officer", _("On-site security officer")
        QUALITY_OFFICER = "quality_officer", _("On-site quality officer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(BusinessUnit, on_delete=models.PROTECT, related_name="memberships")
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["unit__code", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "unit"], name="membership_once_per_unit")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.unit.code}"


class Office(models.Model):
    """A seat of authority (CEO, CISO, CQO, ...). Authority belongs to the office, not the person."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=16, choices=Domain.choices, default=Domain.OTHER)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="offices",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class DelegationQuerySet(models.QuerySet["Delegation"]):
    def active(self, at: datetime | None = None) -> DelegationQuerySet:
        """Delegations in force at a moment (now by default): inside the window, not revoked."""
        moment = at or timezone.now()
        return self.filter(starts_at__lte=moment, ends_at__gt=moment).filter(
            Q(revoked_at__isnull=True) | Q(revoked_at__gt=moment)
        )


class Delegation(models.Model):
    """An acting delegate who holds an office's authority inside a time window."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="delegations")
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = DelegationQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="delegation_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.delegate} acting {self.office.code}"
