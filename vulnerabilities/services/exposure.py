"""The morning-of question's one step: a security directive to exactly the systems it returned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from actions import services as actions_services
from actions.models import Directive
from vulnerabilities import selectors


@transaction.atomic
def direct_exposed(
    *,
    actor: User,
    package: str,
    vers: str,
    title: str,
    body: str,
    deadline: dt.date,
    system_ids: Collection[int] | None = None,
) -> Directive:
    """Ask again which systems the person sees run an affected version, and issue a security
    directive to those (or to the ones of `system_ids` still among them: what the person saw
    and confirmed), one action per system through the directive's fan-out."""
    answer = selectors.exposure(actor, package=package, vers=vers)
    targets = answer.system_ids
    if system_ids is not None:
        targets = sorted(set(targets) & set(system_ids))
    if not targets:
        raise ValidationError(
            {"package": _("No system runs an affected version: there is no one to direct.")}
        )
    directive = actions_services.draft_directive(
        actor=actor,
        title=title,
        body=body,
        deadline=deadline,
        domain="security",
        criteria={"systems": targets},
    )
    return actions_services.issue_directive(actor=actor, directive=directive)
