"""Systems fixtures: registered through the service, so the unit grants exist as in production."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import BusinessUnit
from systems import services
from systems.models import System
from tests.factories import UserFactory


def register(unit: BusinessUnit, code: str, **fields: Any) -> System:
    admin = UserFactory.create(username="registrar", is_superuser=True, is_staff=True)
    return services.register_system(actor=admin, unit=unit, code=code, name=code.upper(), **fields)


@pytest.fixture
def system(unit, bu_head, bu_member) -> System:
    return register(unit, "cert-issuance", internet_facing=True, handles_personal_data=True)


@pytest.fixture
def other_system(other_unit, other_bu_member) -> System:
    return register(other_unit, "cloud-console", internet_facing=True, mfa_enforced=True)
