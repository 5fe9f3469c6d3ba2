"""The demo organisation (see the README): offices, people, units and their TOTP secrets."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.mfa.utils import decrypt
from django.contrib.auth.models import Group
from django.db import transaction

from accounts import services
from accounts.models import BusinessUnit, Domain, Membership, Office, OfficeCode, Role, User

DEMO_PASSWORD = "rcc-demo-2026"

OFFICES = [
    (OfficeCode.CEO, "chair", "Aiko Tanaka", Domain.OTHER),
    (OfficeCode.CISO, "ciso", "Kenji Sato", Domain.SECURITY),
    (OfficeCode.CQO, "cqo", "Yumi Suzuki", Domain.QUALITY),
    (OfficeCode.CFO, "cfo", "Hiroshi Ito", Domain.OTHER),
    (OfficeCode.CHRO, "chro", "Naomi Kato", Domain.OTHER),
]

UNITS = [
    ("PUBSEC", "Public Sector Solutions", "Runs the residents' certificate-issuing service."),
    ("CLOUD", "Cloud & Managed Services", "Operates the group's cloud tenancy and hosting."),
    ("ENTPRJ", "Enterprise Projects", "Runs the internet-facing project-sharing tool."),
    ("FINSOL", "Financial Solutions", "Builds and runs banking back-office systems."),
    ("QHQ", "Quality Headquarters", "Independent quality reviews for the CQO."),
]

# The committee's secretariat is an office too, so that it can be delegated like the others
# when the secretary is away.
SECRETARIAT_OFFICE = ("SEC", "Committee Secretariat", "secretary")

OTHER_PEOPLE = [
    ("secretary", "Mika Yamamoto", [Role.SECRETARY]),
    ("auditor", "Taro Nakamura", [Role.AUDITOR]),
    ("reviewer", "Sakura Kobayashi", [Role.QUALITY_REVIEWER]),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    totp_secret: str


def _person(username: str, name: str, *, superuser: bool = False) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "display_name": name,
            "email": f"{username}@demo.rcc.example",
            "is_staff": superuser,
            "is_superuser": superuser,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _enrol_totp(user: User) -> str:
    """Enrol the person in TOTP once; later runs print the same secret."""
    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if existing is not None:
        return decrypt(existing.data["secret"])
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists():
        RecoveryCodes.activate(user)
    return secret


@transaction.atomic
def seed_organisation() -> list[DemoLogin]:
    """Create or refresh the demo organisation; running it twice changes nothing."""
    groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
    people: list[User] = [_person("admin", "Site Administrator", superuser=True)]

    for office_code, username, name, domain in OFFICES:
        user = _person(username, name)
        user.groups.add(groups[Role.CXO])
        if office_code == OfficeCode.CEO:
            user.groups.add(groups[Role.CHAIR])
        office, _ = Office.objects.get_or_create(
            code=office_code.value, defaults={"name": str(office_code.label), "domain": domain}
        )
        if office.holder_id != user.pk:
            services.assign_office_holder(actor=None, office=office, holder=user)
        people.append(user)

    for username, name, roles in OTHER_PEOPLE:
        user = _person(username, name)
        user.groups.add(*(groups[r] for r in roles))
        people.append(user)

    for code, name, _about in UNITS:
        head = _person(f"{code.lower()}-head", f"Head of {name}")
        member = _person(f"{code.lower()}-member", f"{name} staff")
        head.groups.add(groups[Role.BU_HEAD])
        member.groups.add(groups[Role.BU_MEMBER])
        unit, _ = BusinessUnit.objects.get_or_create(
            code=code, defaults={"name": name, "head": head}
        )
        Membership.objects.get_or_create(user=head, unit=unit)
        Membership.objects.get_or_create(user=member, unit=unit)
        people += [head, member]

    code, name, username = SECRETARIAT_OFFICE
    office, _ = Office.objects.get_or_create(
        code=code, defaults={"name": name, "domain": Domain.OTHER}
    )
    secretary = User.objects.get(username=username)
    if office.holder_id != secretary.pk:
        services.assign_office_holder(actor=None, office=office, holder=secretary)

    reviewer = User.objects.get(username="reviewer")
    Membership.objects.get_or_create(user=reviewer, unit=BusinessUnit.objects.get(code="QHQ"))
    for unit in BusinessUnit.objects.all():
        services.sync_unit_group(unit=unit)

    return [DemoLogin(user.username, _enrol_totp(user)) for user in people]
