"""Work a standing rule issues in an office's name, and its settling on evidence.

Some work is not tasked by a person's act but by a rule an office set: the CISO's remediation
deadlines task a unit to upgrade vulnerable software the moment a finding appears. Such work is
issued under the office, by whoever holds it (the person who caused it when nobody does), and is
settled by the evidence the rule watches (the findings it covers being fixed), not by a person's
verification. Callers are services that have checked their own authority.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import BusinessUnit, Office, User
from accounts.services import UNIT_GRANTS, sync_unit_group
from actions.models import Action, ActionGroupObjectPermission, ActionUpdate
from actions.services.directives import _complete_directive_if_done
from audit import services as audit
from config import text
from config.sql import insert_history, insert_select

A = Action.Status


def issuer_of(office: str, fallback: User | None) -> User | None:
    """Who issues work in `office`'s name: its holder, else `fallback`."""
    holder = Office.objects.filter(code=office).values_list("holder", flat=True).first()
    if holder is not None:
        return User.objects.get(pk=holder)
    return fallback


@transaction.atomic
def settle_on_evidence(
    *, action: Action, done: bool, note: str, caused_by: User | None = None
) -> Action:
    """Close rule-issued work by what the rule watches: verified when `done`, else cancelled
    (nothing left to do, nothing done: every item it covered was set aside). Work already
    finished is left as it is."""
    action = Action.objects.select_for_update().get(pk=action.pk)
    if action.status in {A.VERIFIED, A.CANCELLED}:
        return action
    previous = action.status
    now = timezone.now()
    to = A.VERIFIED if done else A.CANCELLED
    action.status = to
    fields = ["status", "version", "updated_at"]
    if done:
        action.verified_at, action.percent_done = now, 100
        fields += ["verified_at", "percent_done"]
    else:
        action.cancel_reason = note
        fields += ["cancel_reason"]
    action.version += 1
    action.save(update_fields=fields)
    ActionUpdate.objects.create(
        action=action, author=caused_by or action.issued_by, at=now, note=note, new_status=to
    )
    audit.record(
        actor=caused_by,
        office=action.issued_office,
        verb=f"action.{to}",
        target=action,
        details={"from": previous, "to": to, "note": note, "on_evidence": True},
    )
    if action.directive_id is not None:
        _complete_directive_if_done(action.directive_id)
    return action


@dataclass(frozen=True)
class Work:
    """One piece of rule-issued work, for `issue_standing_work_many`."""

    unit_id: int
    title: str
    due_on: dt.date
    description: str = ""
    priority: str = Action.Priority.NORMAL
    system_id: int | None = None


@transaction.atomic
def issue_standing_work_many(
    *, office: str, works: Sequence[Work], domain: str = "security", caused_by: User | None = None
) -> list[int]:
    """Many actions issued under `office` by a standing rule, set-based (a fixed number of
    statements however many: one insert of the actions, one of their history rows, one per
    unit grant, one audit event), as a directive's fan-out is. Returns their ids in the order
    of `works`; none when nobody holds the office and no person caused them."""
    issuer = issuer_of(office, caused_by)
    if issuer is None or not works:
        return []
    for unit in BusinessUnit.objects.filter(
        pk__in={work.unit_id for work in works}, group__isnull=True
    ):
        sync_unit_group(unit=unit)  # only units never set up
    references = audit.reserve_references("ACT", len(works))
    today = timezone.localdate()
    actions = [
        Action(
            reference=reference,
            title=text.fit(Action, "title", work.title),
            description=work.description,
            domain=domain,
            unit_id=work.unit_id,
            due_on=max(work.due_on, today),
            priority=work.priority,
            system_id=work.system_id,
            issued_by=issuer,
            issued_office=office,
        )
        for reference, work in zip(references, works, strict=True)
    ]
    Action.objects.bulk_create(actions, batch_size=2000)
    ids = [action.pk for action in actions]
    created = Action.objects.filter(pk__in=ids)
    insert_history(created, when=timezone.now(), user_id=issuer.pk)
    for permission in Permission.objects.filter(
        content_type__app_label="actions",
        codename__in=[f"{grant}_action" for grant in UNIT_GRANTS],
    ):
        insert_select(
            ActionGroupObjectPermission,
            {"content_object_id": "grant_object", "group_id": "grant_group"},
            created.order_by()
            .annotate(grant_object=F("pk"), grant_group=F("unit__group_id"))
            .values("grant_object", "grant_group"),
            permission_id=permission.pk,
        )
    audit.record(
        actor=caused_by,
        office=office,
        verb="actions.issued_on_rule",
        details={
            "count": len(ids),
            "office": office,
            "references": references[:200],
            "domain": domain,
        },
    )
    return ids
