"""The vulnerability posture page: the whole company for oversight, a unit's own for its people."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.views.decorators.http import require_GET

from accounts import policy as accounts_policy
from vulnerabilities import charts, posture
from vulnerabilities.models import Priority


def share_text(share: float | None) -> str:
    """A share as a whole percentage in the reader's locale; a dash when there is none."""
    if share is None:
        return "—"
    return f"{formats.number_format(round(share * 100), decimal_pos=0)}%"


@login_required
@require_GET
def posture_page(request: HttpRequest) -> HttpResponse:
    """Exposure by unit, exploited vulnerabilities, overdue work, the fix rate and the trend,
    over the findings the reader may see; the same queries for one finding or a million."""
    state = posture.posture_for(request.user)
    priorities = dict(Priority.choices)
    return render(
        request,
        "vulnerabilities/posture.html",
        {
            "posture": state,
            "everything": accounts_policy.reads_everything(request.user),
            "severities": list(charts.severity_labels().items()),
            "overdue_by_priority": [
                (value, priorities[value], count) for value, count in state.overdue_by_priority
            ],
            "share": share_text(state.fixed_in_time_share),
            "fix_window_days": posture.FIX_WINDOW.days,
            "trend_chart": charts.trend_svg(state.trend),
            "units_chart": charts.units_svg(state.units),
        },
    )
