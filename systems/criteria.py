"""The criteria language over the system register: which systems a measure or directive targets.

Criteria are a JSON object; every key narrows the set (AND), list values mean "any of":

    {"internet_facing": true, "mfa_enforced": false, "criticality": ["high", "critical"],
     "environment": "production", "units": ["PUBSEC"], "handles_personal_data": true}

"systems" names systems by id: the exact list a question returned (the morning-of question's
directive goes to those systems, not to whatever matches later).

Retired systems are left out unless "status" names them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from systems.models import System

BOOLEAN_KEYS = ("internet_facing", "handles_personal_data", "mfa_enforced")
CHOICE_KEYS: dict[str, type[Any]] = {
    "environment": System.Environment,
    "criticality": System.Criticality,
    "status": System.Status,
    "registration": System.Registration,
}
ALL_KEYS = (*BOOLEAN_KEYS, *CHOICE_KEYS, "criticality_at_least", "units", "systems")
CRITICALITY_ORDER = [c.value for c in System.Criticality]


class _Invalid(Exception):
    pass


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(_("Must be true or false."))
    return value


def _one_or_more_of(choices: type[Any]) -> Callable[[Any], list[str]]:
    allowed = list(choices.values)

    def check(value: Any) -> list[str]:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or not all(v in allowed for v in values):
            raise _Invalid(
                _("Must be one of %(choices)s, or a non-empty list of them.") % {"choices": allowed}
            )
        return sorted(set(values))

    return check


def _criticality_floor(value: Any) -> str:
    if value not in CRITICALITY_ORDER:
        raise _Invalid(_("Must be one of %(choices)s.") % {"choices": CRITICALITY_ORDER})
    return str(value)


def _unit_codes(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _Invalid(_("Must be a non-empty list of business-unit codes."))
    return sorted(set(value))


def _system_ids(value: Any) -> list[int]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise _Invalid(_("Must be a non-empty list of system ids."))
    return sorted(set(value))


VALIDATORS: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(BOOLEAN_KEYS, _boolean),
    **{key: _one_or_more_of(choices) for key, choices in CHOICE_KEYS.items()},
    "criticality_at_least": _criticality_floor,
    "units": _unit_codes,
    "systems": _system_ids,
}


def validate(criteria: Any) -> dict[str, Any]:
    """Normalised criteria, or a ValidationError naming each bad key (a 400 at the API)."""
    if not isinstance(criteria, Mapping):
        raise ValidationError({"criteria": _("Criteria must be a JSON object.")})
    if not criteria:
        raise ValidationError(
            {"criteria": _("Name at least one criterion; {} would match everything.")}
        )
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key, value in criteria.items():
        check = VALIDATORS.get(key)
        if check is None:
            errors[str(key)] = _("Unknown criterion. Known: %(known)s.") % {
                "known": ", ".join(ALL_KEYS)
            }
            continue
        try:
            clean[key] = check(value)
        except _Invalid as exc:
            errors[key] = str(exc)
    if errors:
        raise ValidationError(errors)
    return clean


def as_q(criteria: Mapping[str, Any]) -> Q:
    """A filter for validated criteria."""
    q = Q()
    for key in BOOLEAN_KEYS:
        if key in criteria:
            q &= Q(**{key: criteria[key]})
    for key in CHOICE_KEYS:
        if key in criteria:
            q &= Q(**{f"{key}__in": criteria[key]})
    if "status" not in criteria:
        q &= ~Q(status=System.Status.RETIRED)
    if "criticality_at_least" in criteria:
        floor = CRITICALITY_ORDER.index(criteria["criticality_at_least"])
        q &= Q(criticality__in=CRITICALITY_ORDER[floor:])
    if "units" in criteria:
        q &= Q(unit__code__in=criteria["units"])
    if "systems" in criteria:
        q &= Q(pk__in=criteria["systems"])
    return q
