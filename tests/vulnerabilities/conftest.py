"""Vulnerability fixtures: systems registered and advisories imported through the services."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from accounts.models import BusinessUnit, Membership, User
from systems.models import System
from tests.factories import MembershipFactory, UserFactory
from tests.systems.conftest import register
from tests.vulnerabilities.samples import sample
from vulnerabilities.models import FeedImport
from vulnerabilities.services import advisories

LOG4J_SBOM = "cyclonedx/defectdojo_cdx_nested-component-log4j.json"
LOG4J_OSV = "osv/osvscanner_Maven_GHSA-3pxv-7cmr-fjr4.json"


def import_bytes(actor: User | None, kind: str, data: bytes, origin: str = "test") -> FeedImport:
    return advisories.import_file(actor=actor, kind=kind, stream=io.BytesIO(data), origin=origin)


def import_sample(actor: User | None, kind: str, relative: str) -> FeedImport:
    path: Path = sample(relative)
    with path.open("rb") as stream:
        return advisories.import_file(actor=actor, kind=kind, stream=stream, origin=relative)


def sbom_bytes(relative: str = LOG4J_SBOM, **replace: Any) -> bytes:
    data = sample(relative).read_bytes()
    for old, new in replace.items():
        data = data.replace(old.encode(), new.encode())
    return data


@pytest.fixture
def system(unit, bu_head, bu_member) -> System:
    return register(unit, "cert-issuance", internet_facing=True, handles_personal_data=True)


@pytest.fixture
def security_officer(unit: BusinessUnit) -> User:
    user = UserFactory.create(username="sec_officer", roles=["bu_member"])
    MembershipFactory.create(user=user, unit=unit, kind=Membership.Kind.SECURITY_OFFICER)
    return user
