"""Vulnerabilities and findings made directly with the ORM, for tests that read them (the
posture, the committee's agenda) rather than test how feeds and scans make them."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from systems.models import System
from vulnerabilities.models import Finding, Priority, Severity, Vulnerability

serial = itertools.count()


def vulnerability(severity: str = Severity.HIGH, *, kev: bool = False) -> Vulnerability:
    return Vulnerability.objects.create(
        key=f"CVE-2026-{10000 + next(serial)}", severity=severity, kev=kev
    )


def finding(
    system: System,
    vuln: Vulnerability,
    *,
    state: str = Finding.State.OPEN,
    severity: str | None = None,
    priority: str = Priority.P3,
    due: int | None = 30,
    opened: int = 1,
    fixed: int | None = None,
) -> Finding:
    """A finding: `due` in days from today (negative: past), `opened` and `fixed` days ago."""
    now = timezone.now()
    return Finding.objects.create(
        system=system,
        vulnerability=vuln,
        package=f"pkg:pypi/package-{next(serial)}",
        version="1.0",
        why="test",
        state=state,
        severity=severity or vuln.severity,
        priority=priority,
        due_on=None if due is None else timezone.localdate() + dt.timedelta(days=due),
        first_seen_at=now - dt.timedelta(days=opened),
        opened_at=now - dt.timedelta(days=opened),
        fixed_at=None if fixed is None else now - dt.timedelta(days=fixed),
    )
