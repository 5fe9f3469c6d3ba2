"""The CQO's thresholds: read by everyone signed in, changed together or not at all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from config.api import actor_of
from config.errors import PreconditionFailed
from config.pages import refused
from quality import policy, selectors, services
from quality.forms import ThresholdsForm, plain
from quality.models import LOWER_IS_BETTER, Indicator
from quality.views.common import indicator_label

# --- Thresholds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdRow:
    indicator: str
    label: str
    green: str
    red: str
    meaning: str
    updated: Any


def threshold_rows(thresholds: Mapping[str, Any]) -> list[ThresholdRow]:
    rows = []
    for indicator in Indicator:
        threshold = thresholds.get(indicator)
        if threshold is None:
            rows.append(
                ThresholdRow(indicator, str(indicator.label), "", "", _("Not rated."), None)
            )
            continue
        green, red = str(plain(threshold.green)), str(plain(threshold.red))
        if indicator in LOWER_IS_BETTER:
            meaning = _("Lower is better: green at %(green)s or below, red above %(red)s.")
        else:
            meaning = _("Higher is better: green at %(green)s or above, red below %(red)s.")
        rows.append(
            ThresholdRow(
                indicator,
                str(indicator.label),
                green,
                red,
                meaning % {"green": green, "red": red},
                threshold,
            )
        )
    return rows


def _threshold_table(
    rows: list[ThresholdRow], form: ThresholdsForm | None
) -> list[tuple[ThresholdRow, tuple[Any, ...]]]:
    """Each row with its green and red inputs when the reader may change them."""
    fields = {str(i): (green, red) for i, green, red in form.rows()} if form else {}
    return [(row, fields.get(row.indicator, ())) for row in rows]


@login_required
@require_http_methods(["GET", "POST"])
def thresholds(request: HttpRequest) -> HttpResponse:
    """How projects are rated, for everyone signed in; the CQO (or the chair) changes it. The
    rows changed are saved together or not at all, so the table never holds half an edit."""
    current = {t.indicator: t for t in selectors.thresholds()}
    office = policy.threshold_office(request.user)
    if request.method == "POST" and office is None:
        return refused(
            request, PermissionDenied(_("Only the CQO (or the chair) sets quality thresholds."))
        )
    form = ThresholdsForm(request.POST or None, thresholds=current) if office else None
    status = 200
    if form is not None and form.is_bound:
        status = 400
        if form.is_valid():
            changed = form.changed_rows()
            try:
                with transaction.atomic():
                    failed = False
                    for indicator, green, red, version in changed:
                        try:
                            services.set_threshold(
                                actor=actor_of(request),
                                indicator=indicator,
                                green=green,
                                red=red,
                                expected_version=version,
                            )
                        except ValidationError as exc:
                            form.refusal_in_row(indicator, exc)
                            failed = True
                        except PreconditionFailed:
                            form.add_error(
                                None,
                                _(
                                    "Someone changed the thresholds while you were reading "
                                    "them; nothing was saved. Reload to see them as they are now."
                                ),
                            )
                            failed = True
                            break
                    if failed:
                        transaction.set_rollback(True)
            except PermissionDenied as exc:
                return refused(request, exc)
            if not failed:
                if changed:
                    messages.success(
                        request,
                        _(
                            "Thresholds changed: %(indicators)s. Reports already rated keep "
                            "their ratings."
                        )
                        % {
                            "indicators": ", ".join(indicator_label(i) for i, _g, _r, _v in changed)
                        },
                    )
                else:
                    messages.info(request, _("Nothing was changed."))
                return redirect("quality:thresholds")
    return render(
        request,
        "quality/thresholds.html",
        {"table": _threshold_table(threshold_rows(current), form), "form": form, "office": office},
        status=status,
    )
