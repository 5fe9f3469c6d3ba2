"""Severity from a CVSS vector (v3.x, v4.0), and a finding's priority and due date.

Priority adds what we know of the system and of exploitation to the flaw's severity:

* P1, fix now: exploited in the wild (CISA KEV) on an internet-facing system, or critical on one;
* P2, urgent: any other KEV, any other critical, or high on an exposed system (internet-facing,
  holding personal data, or of high or critical importance);
* P3, planned: other highs, mediums on an exposed system, and flaws of unknown severity;
* P4, routine: everything else.

The due date is the earlier of the CISO's deadline for that priority and KEV's due date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from cvss import CVSS3, CVSS4

from vulnerabilities.models import Priority, Severity

EXPOSED_CRITICALITY = {"high", "critical"}


def _band(score: float) -> str:
    """The qualitative rating of a score (the bands are the same in CVSS v3.1 and v4.0)."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.NONE


def read_vector(vector: str) -> tuple[Decimal, str] | None:
    """Base score and severity of one CVSS v3.x or v4.0 vector; None if it cannot be read."""
    vector = vector.strip()
    try:
        if vector.startswith("CVSS:4.0/"):
            score = float(CVSS4(vector).base_score)
        elif vector.startswith("CVSS:3."):
            score = float(CVSS3(vector).scores()[0])
        else:
            return None
    except Exception:  # the cvss library raises its own errors for a malformed vector
        return None
    return Decimal(str(score)).quantize(Decimal("0.1")), _band(score)


def best_vector(vectors: Iterable[str]) -> tuple[str, Decimal | None, str]:
    """The vector a vulnerability is rated by: v4.0 over v3.x, then the highest score.
    Returns (vector, score, severity); ("", None, unknown) when none can be read."""
    read = []
    for vector in vectors:
        scored = read_vector(vector)
        if scored is not None:
            read.append((vector.startswith("CVSS:4.0/"), scored[0], vector, scored[1]))
    if not read:
        return "", None, Severity.UNKNOWN
    _v4, score, vector, severity = max(read)
    return vector, score, severity


def priority(*, severity: str, kev: bool, system: Mapping[str, Any]) -> str:
    """The priority of a finding of `severity` on `system` (a mapping of its register fields)."""
    internet = bool(system["internet_facing"])
    exposed = (
        internet
        or bool(system["handles_personal_data"])
        or system["criticality"] in EXPOSED_CRITICALITY
    )
    if (kev and internet) or (severity == Severity.CRITICAL and internet):
        return Priority.P1
    if kev or severity == Severity.CRITICAL or (severity == Severity.HIGH and exposed):
        return Priority.P2
    if severity in {Severity.HIGH, Severity.UNKNOWN} or (severity == Severity.MEDIUM and exposed):
        return Priority.P3
    return Priority.P4


def due_on(
    *, opened: dt.date, priority: str, deadlines: Mapping[str, int], kev_due_on: dt.date | None
) -> dt.date:
    """The earlier of the CISO's deadline for the priority and KEV's due date."""
    due = opened + dt.timedelta(days=deadlines[priority])
    if kev_due_on is not None and kev_due_on < due:
        return kev_due_on
    return due
