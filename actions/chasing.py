"""Chasing: reminders before the due date, notices when overdue, and escalation up to the committee.

Set-based and idempotent. Each stage reaches each action once: the claim is a unique
ChaseNotice row inserted under a row lock on the action (SELECT ... FOR UPDATE SKIP LOCKED on
PostgreSQL), so a retry, a redelivery or two overlapping runs add nothing twice. People get one
digest mail per run listing all their items, and the same items in-app.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Delegation, Office, OfficeCode, Role, User
from actions.models import Action, ChaseNotice, Digest, Notification
from actions.policy import DOMAIN_OFFICE

logger = logging.getLogger(__name__)

STAGE_TEXT = {
    "reminder_7d": "due within a week",
    "reminder_1d": "due tomorrow",
    "overdue": "overdue",
    "unit_head": "overdue a week: escalated to the unit head",
    "owning_office": "overdue two weeks: escalated to the owning office",
    "committee": "overdue a month: escalated to the Risk Compliance Committee",
}


@dataclass
class ChaseResult:
    """What one run did: stages reached per stage name, and digests mailed."""

    stages: Counter[str] = field(default_factory=Counter)
    digests: int = 0


def _due(spec: dict[str, Any], today: dt.date) -> Any:
    days = int(spec["days"])
    actions = Action.objects.open()
    if days < 0:  # a reminder: from `days` before the due date until the due date itself
        return actions.filter(due_on__gte=today, due_on__lte=today + dt.timedelta(days=-days))
    # A submitted action waits on its verifier, not on its unit: no overdue notices for it.
    return actions.exclude(status=Action.Status.SUBMITTED).filter(
        due_on__lte=today - dt.timedelta(days=days)
    )


def _owners(actions: list[Action]) -> dict[int, set[int]]:
    """The assignee, or everyone in the owning unit when nobody is assigned."""
    groups = {a.unit.group_id for a in actions if a.assignee_id is None and a.unit.group_id}
    members: dict[int, set[int]] = defaultdict(set)
    pairs = User.groups.through.objects.filter(group_id__in=groups).values_list(
        "group_id", "user_id"
    )
    for group_id, user_id in pairs:
        members[group_id].add(user_id)
    return {
        a.pk: {a.assignee_id} if a.assignee_id else set(members.get(a.unit.group_id or 0, ()))
        for a in actions
    }


def _unit_heads(actions: list[Action]) -> dict[int, set[int]]:
    return {a.pk: {a.unit.head_id} for a in actions if a.unit.head_id}


def _office_code(action: Action) -> str:
    return str(DOMAIN_OFFICE.get(action.domain, OfficeCode.CEO))  # type: ignore[call-overload]


def owning_offices(actions: list[Action]) -> dict[int, set[int]]:
    """The holder of the office owning each action's domain, and anyone acting for it now."""
    codes = {_office_code(a) for a in actions}
    holders: dict[str, set[int]] = defaultdict(set)
    for code, holder in Office.objects.filter(code__in=codes).values_list("code", "holder_id"):
        if holder:
            holders[code].add(holder)
    acting = Delegation.objects.active().filter(office__code__in=codes)
    for code, delegate in acting.values_list("office__code", "delegate_id"):
        holders[code].add(delegate)
    return {a.pk: holders[_office_code(a)] for a in actions}


def _committee(actions: list[Action]) -> dict[int, set[int]]:
    """The chair and the secretariat, who put it on the next agenda."""
    chair = Office.objects.filter(code=OfficeCode.CEO, holder__isnull=False)
    people = set(chair.values_list("holder_id", flat=True)) | set(
        User.objects.filter(groups__name=Role.SECRETARY, is_active=True).values_list(
            "pk", flat=True
        )
    )
    return {a.pk: set(people) for a in actions}


AUDIENCES = {
    "owner": _owners,
    "unit_head": _unit_heads,
    "office": owning_offices,
    "committee": _committee,
}


def _chase_batch(spec: dict[str, Any], today: dt.date) -> int:
    """Claim and notify one batch of actions for one stage; 0 when none are left."""
    stage = spec["stage"]
    with transaction.atomic():
        candidates = _due(spec, today).exclude(chase_notices__stage=stage).order_by("pk")
        ids = list(
            candidates.select_for_update(skip_locked=True).values_list("pk", flat=True)[
                : settings.CHASE_BATCH_SIZE
            ]
        )
        if not ids:
            return 0
        # Re-read under the lock: a run that committed before we locked has already claimed some.
        batch = list(
            Action.objects.filter(pk__in=ids)
            .exclude(chase_notices__stage=stage)
            .select_related("unit")
        )
        if not batch:
            return 0
        ChaseNotice.objects.bulk_create([ChaseNotice(action=a, stage=stage) for a in batch])
        level = int(spec["level"])
        if level:
            Action.objects.filter(pk__in=[a.pk for a in batch], escalation_level__lt=level).update(
                escalation_level=level
            )
        who = AUDIENCES[spec["audience"]](batch)
        text = STAGE_TEXT.get(stage, stage)
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=user_id,
                    action=a,
                    stage=stage,
                    message=f"{a.reference} {a.title} ({a.unit.code}, due {a.due_on:%Y-%m-%d}): {text}"[
                        :500
                    ],
                )
                for a in batch
                for user_id in sorted(who.get(a.pk, ()))
            ],
            ignore_conflicts=True,
        )
    return len(batch)


def send_digests(*, now: dt.datetime | None = None) -> int:
    """Gather every notification not yet mailed into one digest per person and mail it. A digest
    is claimed by a conditional update before it is sent, so a retry never mails it twice."""
    moment = now or timezone.now()
    with transaction.atomic():
        recipients = list(
            Notification.objects.filter(digest__isnull=True)
            .order_by()
            .values_list("recipient_id", flat=True)
            .distinct()
        )
        for recipient_id in recipients:
            digest = Digest.objects.create(recipient_id=recipient_id)
            Notification.objects.filter(digest__isnull=True, recipient_id=recipient_id).update(
                digest=digest
            )
    sent = 0
    for digest in Digest.objects.filter(sent_at__isnull=True).select_related("recipient"):
        if not Digest.objects.filter(pk=digest.pk, sent_at__isnull=True).update(sent_at=moment):
            continue  # another run took it
        items = list(digest.notifications.select_related("action").order_by("action__due_on"))
        if not digest.recipient.email or not items:
            continue
        try:
            send_mail(
                f"[RCC] {len(items)} action{'s' if len(items) != 1 else ''} need your attention",
                render_to_string(
                    "actions/mail/digest.txt", {"recipient": digest.recipient, "items": items}
                ),
                settings.DEFAULT_FROM_EMAIL,
                [digest.recipient.email],
            )
        except Exception:
            # Release the claim: the next run sends it. Never lose a digest to a mail outage.
            Digest.objects.filter(pk=digest.pk).update(sent_at=None)
            logger.exception("digest %s not sent; will retry", digest.pk)
            continue
        sent += 1
    return sent


def chase_actions(*, now: dt.datetime | None = None) -> ChaseResult:
    """One run of the chase: every stage, in batches, then the digests."""
    today = timezone.localdate(now or timezone.now())
    result = ChaseResult()
    for spec in settings.CHASE_STAGES:
        while count := _chase_batch(spec, today):
            result.stages[str(spec["stage"])] += count
    result.digests = send_digests(now=now)
    return result
