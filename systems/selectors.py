"""Reads of the system register, scoped to the reader, and the criteria selector."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from systems import criteria as criteria_language
from systems import policy
from systems.models import SuspensionOrder, System


def systems_for(user: Any) -> QuerySet[System]:
    return policy.visible_systems(user).select_related("unit")


def suspensions_for(user: Any) -> QuerySet[SuspensionOrder]:
    return policy.visible_suspensions(user).select_related(
        "system", "system__unit", "issued_by", "lifted_by"
    )


def systems_matching(criteria: Mapping[str, Any], *, user: Any | None = None) -> QuerySet[System]:
    """The systems criteria select today; with `user`, only those the user may see.
    Raises ValidationError for criteria that do not parse."""
    clean = criteria_language.validate(criteria)
    base = System.objects.all() if user is None else policy.visible_systems(user)
    return base.filter(criteria_language.as_q(clean)).select_related("unit")
