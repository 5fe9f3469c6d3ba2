"""Demo incidents and risks drawn from the breaches and the certificate mix-up behind it all."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import BusinessUnit, User
from cases import services
from cases.models import Incident, Risk
from systems.models import System


def _member(unit_code: str) -> User:
    return User.objects.get(username=f"{unit_code.lower()}-member")


def seed_cases() -> None:
    """Report the demo incidents and register the demo risks once; later runs change nothing."""
    now = timezone.now()
    if not Incident.objects.filter(
        title="Unauthorized access to the project sharing tool"
    ).exists():
        member = _member("ENTPRJ")
        incident = services.report_incident(
            actor=member,
            unit=BusinessUnit.objects.get(code="ENTPRJ"),
            title="Unauthorized access to the project sharing tool",
            description="Logins with a contractor's reused password from an unknown network, "
            "unnoticed for three weeks.",
            category=Incident.Category.UNAUTHORIZED_ACCESS,
            severity="critical",
            detected_at=now - timedelta(days=6),
            occurred_at=now - timedelta(days=27),
            affected_systems=System.objects.filter(code="project-share"),
        )
        for act in ("triage", "investigate"):
            incident = services.transition_incident(actor=member, incident=incident, act=act)
        measure = services.add_measure(
            actor=member,
            incident=incident,
            description="Enforce MFA on every internet-facing system.",
            criteria={"internet_facing": True, "mfa_enforced": False},
        )
        # The CISO rolls the fix out to every similar system, in every unit.
        services.roll_out_measure(
            actor=User.objects.get(username="ciso"),
            measure=measure,
            deadline=timezone.localdate() + timedelta(days=21),
        )
    if not Incident.objects.filter(title="Certificates issued to the wrong residents").exists():
        member = _member("PUBSEC")
        incident = services.report_incident(
            actor=member,
            unit=BusinessUnit.objects.get(code="PUBSEC"),
            title="Certificates issued to the wrong residents",
            description="The print batch paired residents with other people's records.",
            category=Incident.Category.PERSONAL_DATA_MISISSUE,
            severity="critical",
            domain="quality",
            personal_data_involved=True,
            detected_at=now - timedelta(days=3),
            affected_systems=System.objects.filter(code__in=["resident-cert", "cert-print-batch"]),
        )
        for act in ("triage", "investigate", "contain"):
            incident = services.transition_incident(actor=member, incident=incident, act=act)
        services.update_incident(
            actor=member,
            incident=incident,
            root_cause="A sort-order change in the batch was released without a regression test.",
        )
    risks = [
        ("CLOUD", "Cloud consoles without MFA", 4, 5, 4, 4),
        ("ENTPRJ", "Contractor accounts never expire", 4, 4, 2, 3),
        ("PUBSEC", "Releases skip regression tests", 3, 5, 3, 4),
        ("FINSOL", "Batch operators share one admin account", 2, 4, 2, 2),
    ]
    for unit_code, title, likelihood, impact, r_likelihood, r_impact in risks:
        if Risk.objects.filter(title=title).exists():
            continue
        member = _member(unit_code)
        services.register_risk(
            actor=member,
            unit=BusinessUnit.objects.get(code=unit_code),
            owner=member,
            title=title,
            likelihood=likelihood,
            impact=impact,
            residual_likelihood=r_likelihood,
            residual_impact=r_impact,
        )
