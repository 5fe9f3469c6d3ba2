"""Demo systems from the scenario: the sharing tool, the cloud console, the certificate service."""

from __future__ import annotations

from accounts.models import BusinessUnit, User
from systems import services
from systems.models import System

SYSTEMS = [
    # code, unit, name, internet-facing, personal data, MFA enforced, criticality, registration
    ("project-share", "ENTPRJ", "Project sharing tool", True, False, False, "high", "registered"),
    (
        "cloud-console",
        "CLOUD",
        "Cloud tenancy console",
        True,
        False,
        False,
        "critical",
        "registered",
    ),
    (
        "resident-cert",
        "PUBSEC",
        "Residents' certificate issuing",
        True,
        True,
        True,
        "critical",
        "registered",
    ),
    (
        "cert-print-batch",
        "PUBSEC",
        "Certificate print batch",
        False,
        True,
        False,
        "high",
        "registered",
    ),
    (
        "core-banking-batch",
        "FINSOL",
        "Core banking batch",
        False,
        True,
        True,
        "critical",
        "registered",
    ),
    (
        "legacy-ftp",
        "CLOUD",
        "Legacy file transfer server",
        True,
        True,
        False,
        "medium",
        "discovered",
    ),
]


def seed_systems() -> dict[str, System]:
    """Register the demo systems once (through the service, so grants and audit exist) and
    suspend the sharing tool, as the CISO did after the breach."""
    systems: dict[str, System] = {}
    for code, unit_code, name, internet, personal, mfa, criticality, registration in SYSTEMS:
        existing = System.objects.filter(code=code).first()
        if existing is not None:
            systems[code] = existing
            continue
        unit = BusinessUnit.objects.get(code=unit_code)
        systems[code] = services.register_system(
            actor=User.objects.get(username=f"{unit_code.lower()}-member"),
            unit=unit,
            code=code,
            name=name,
            internet_facing=internet,
            handles_personal_data=personal,
            mfa_enforced=mfa,
            criticality=criticality,
            registration=registration,
        )
    share = systems["project-share"]
    if not share.suspensions.exists():
        services.suspend_system(
            actor=User.objects.get(username="ciso"),
            system=share,
            reason="Unauthorized logins from an unknown network; taken offline pending investigation.",
        )
    return systems
