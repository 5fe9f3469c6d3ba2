"""Every write of quality control: projects, reports and their flags, thresholds, reviews and
release decisions. Policy first, one transaction, an audit event, mail after commit."""

from quality.services.gates import MAX_WORK, decide_release, record_review, release_caution
from quality.services.projects import FIGURES, Work, advance_phase, latest_review, register_project
from quality.services.reports import (
    correct_report,
    not_correctable,
    set_threshold,
    submit_report,
)

__all__ = [
    "FIGURES",
    "MAX_WORK",
    "Work",
    "advance_phase",
    "correct_report",
    "decide_release",
    "latest_review",
    "not_correctable",
    "record_review",
    "register_project",
    "release_caution",
    "set_threshold",
    "submit_report",
]
