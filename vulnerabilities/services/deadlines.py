"""The CISO's remediation deadlines: days to fix per priority, data the CISO edits."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from audit import services as audit
from config.versioning import check_version
from vulnerabilities import policy
from vulnerabilities.models import RemediationDeadline

MAX_DAYS = 3650


@transaction.atomic
def set_deadline(
    *, actor: User, deadline: RemediationDeadline, days: int, expected_version: str | None = None
) -> RemediationDeadline:
    """How many days a finding of this priority has to be fixed. Findings already open keep
    the due date they were given; new ones get this."""
    if not policy.can_set_deadlines(actor):
        raise PermissionDenied(_("Only the CISO sets remediation deadlines."))
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise ValidationError(
            {"days": _("A whole number of days from 1 to %(max)s.") % {"max": MAX_DAYS}}
        )
    deadline = RemediationDeadline.objects.select_for_update().get(pk=deadline.pk)
    check_version(deadline, expected_version)
    before = deadline.days
    if before == days:
        return deadline
    deadline.days, deadline.updated_by = days, actor
    deadline.save(update_fields=["days", "updated_by", "updated_at"])
    audit.record(
        actor=actor,
        office=policy.ciso_office(actor) or "",
        verb="vulnerabilities.deadline_set",
        target=deadline,
        details={"priority": deadline.priority, "days": days, "from": before},
    )
    return deadline
