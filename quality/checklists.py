"""The checklists of an independent review: the planning-stage review, and the later checks that
what was built follows the plan. Items are fixed by the review method, so they live in code."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from quality.models import Phase

ANSWERS = ("yes", "no", "n/a")

PLANNING = [
    (
        "personal_data_inventory",
        _("The personal data the system handles is listed, each item with its purpose."),
    ),
    (
        "fail_safe_design",
        _("Fail-safe design: on any fault the process stops rather than issue a wrong output."),
    ),
    (
        "transaction_uniqueness",
        _(
            "Transaction uniqueness in issuing processes: each request is bound to one person "
            "and yields exactly one output, even under retries and concurrent requests."
        ),
    ),
    (
        "access_control",
        _("Access to personal data is limited to the roles that need it, and logged."),
    ),
    (
        "test_plan",
        _("The test plan covers mix-ups between people, concurrency, load and failure modes."),
    ),
    (
        "release_criteria",
        _("Release criteria and quality indicator targets are set before build starts."),
    ),
]

CONFORMANCE = [
    ("follows_plan", _("What was built in this phase follows the reviewed plan.")),
    ("fail_safe_design", _("Fail-safe design is built as planned and its failure paths tested.")),
    (
        "transaction_uniqueness",
        _("Transaction uniqueness is built as planned and tested under concurrency."),
    ),
    ("deviations_recorded", _("Deviations from the plan are recorded, with who approved them.")),
]


def checklist_for(phase: str) -> Sequence[tuple[str, Promise]]:
    """The planning-stage review's checklist at planning; the conformance check's after."""
    return PLANNING if phase == Phase.PLANNING else CONFORMANCE
