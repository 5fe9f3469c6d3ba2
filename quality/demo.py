"""Demo projects from the scenario: the certificate service's rebuild, reviewed and now trending
late; the cloud console's MFA roll-out waiting at the release gate; a banking re-platform still
in planning, unreviewed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from accounts.models import BusinessUnit, User
from quality import services
from quality.checklists import CONFORMANCE, PLANNING
from quality.models import Phase, Project
from systems.models import System


def _month(offset: int) -> dt.date:
    today = timezone.localdate().replace(day=1)
    index = today.year * 12 + today.month - 1 + offset
    return dt.date(index // 12, index % 12 + 1, 1)


def _register(code: str, unit_code: str, name: str, budget: str, months: int) -> Project | None:
    """The project, registered by the unit's member; None if the demo already has it."""
    if Project.objects.filter(name=name).exists():
        return None
    today = timezone.localdate()
    return services.register_project(
        actor=User.objects.get(username=f"{unit_code.lower()}-member"),
        unit=BusinessUnit.objects.get(code=unit_code),
        system=System.objects.get(code=code),
        name=name,
        planned_budget=Decimal(budget),
        planned_start=today - dt.timedelta(days=150),
        planned_finish=today + dt.timedelta(days=30 * months),
    )


def _reports(project: Project, member: User, earned: list[int], cost: list[int]) -> None:
    for offset, (ev, ac) in enumerate(zip(earned, cost, strict=True), start=-len(earned)):
        pv = 60000 * (offset + len(earned) + 1)
        services.submit_report(
            actor=member,
            project=project,
            period=_month(offset),
            planned_value=Decimal(pv),
            earned_value=Decimal(ev),
            actual_cost=Decimal(ac),
            percent_complete=min(100, int(ev * 100 / project.planned_budget)),
            tests_planned=400,
            tests_run=min(400, 90 * (offset + len(earned) + 1)),
            size=Decimal("12.5"),
            defects_design=6,
            defects_build=14,
            defects_test=9,
        )


def seed_quality() -> None:
    """Idempotent: a project the demo already has is left as it is."""
    reviewer = User.objects.get(username="reviewer")
    certificate = _register(
        "resident-cert",
        "PUBSEC",
        "Certificate issuance: one request, one resident, one certificate",
        "600000",
        6,
    )
    if certificate is not None:
        member = User.objects.get(username="pubsec-member")
        services.record_review(
            actor=reviewer,
            project=certificate,
            checklist={
                **{key: "yes" for key, _label in PLANNING},
                "transaction_uniqueness": "no",
            },
            verdict="passed_with_findings",
            summary="The plan reuses the print queue's session across requests; a retry can "
            "print another resident's certificate.",
            findings=[
                services.Work(
                    title="Bind each print job to one request and one resident",
                    due_on=timezone.localdate() + dt.timedelta(days=21),
                )
            ],
        )
        services.advance_phase(actor=member, project=certificate)
        services.record_review(
            actor=reviewer,
            project=certificate,
            checklist={key: "yes" for key, _label in CONFORMANCE},
            verdict="passed",
            summary="The design binds jobs to requests as planned.",
        )
        services.advance_phase(actor=member, project=certificate)
        # Falling behind three months running: flagged to the CQO and the committee.
        _reports(
            certificate, member, [60000, 112000, 160000, 200000], [58000, 115000, 172000, 226000]
        )
    console = _register(
        "cloud-console", "CLOUD", "Cloud console: MFA for every tenant", "240000", 1
    )
    if console is not None:
        member = User.objects.get(username="cloud-member")
        while console.phase != Phase.TEST:
            console = services.advance_phase(actor=member, project=console)
        _reports(console, member, [60000, 121000, 182000], [59000, 118000, 180000])
    _register("core-banking-batch", "FINSOL", "Core banking batch re-platform", "1800000", 14)
