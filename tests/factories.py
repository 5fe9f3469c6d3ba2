"""factory-boy factories for the kernel: people, units, offices, delegations."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from accounts import services
from accounts.models import BusinessUnit, Delegation, Membership, Office, User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    display_name = factory.LazyAttribute(lambda u: u.username.replace("-", " ").title())
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self: User, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        from django.contrib.auth.models import Group

        for name in extracted or []:
            self.groups.add(Group.objects.get_or_create(name=name)[0])
        if create:
            self.save()


class BusinessUnitFactory(factory.django.DjangoModelFactory[BusinessUnit]):
    class Meta:
        model = BusinessUnit
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"BU{n:03d}")
    name = factory.LazyAttribute(lambda u: f"Unit {u.code}")

    @factory.post_generation
    def with_group(self: BusinessUnit, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            services.sync_unit_group(unit=self)


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(BusinessUnitFactory)

    @factory.post_generation
    def in_unit_group(self: Membership, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            services.sync_unit_group(unit=self.unit)


class OfficeFactory(factory.django.DjangoModelFactory[Office]):
    class Meta:
        model = Office
        django_get_or_create = ("code",)

    code = "CISO"
    name = factory.LazyAttribute(lambda o: f"Office {o.code}")


class DelegationFactory(factory.django.DjangoModelFactory[Delegation]):
    class Meta:
        model = Delegation

    office = factory.SubFactory(OfficeFactory)
    delegate = factory.SubFactory(UserFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=6))
    reason = "Annual leave"
