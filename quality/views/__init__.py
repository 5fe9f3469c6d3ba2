"""Pages of quality control: the project list, a project's page with its Earned Value chart, and
the forms that report, move a project on, review it, decide its release and set thresholds."""

from quality.views.projects import advance, project_columns, project_detail, project_list, register
from quality.views.thresholds import thresholds
from quality.views.work import correct_report, release, report, review

__all__ = [
    "advance",
    "correct_report",
    "project_columns",
    "project_detail",
    "project_list",
    "register",
    "release",
    "report",
    "review",
    "thresholds",
]
