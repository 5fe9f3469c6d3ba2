"""Chasing: reminders before the due date, notices when overdue, and escalation up to the committee.

Set-based and idempotent. Each stage reaches each action once: a batch of actions is claimed by
one INSERT ... SELECT of ChaseNotice rows (unique per action and stage, ON CONFLICT DO NOTHING,
candidates locked with SKIP LOCKED on PostgreSQL), so a retry, a redelivery or two overlapping
batches add nothing twice; a run that finds another under way leaves the chase to it, so
nobody's items are split over two mails. The escalation, and for each audience the digests and
notifications of the batch, are written by one statement each. People then get one digest mail
per run listing all their items, and the same items in-app. The work grows with the actions
chased, never one query per action.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import CharField, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat, Substr
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from accounts.models import Office, OfficeCode, Role, User
from accounts.selectors import office_people
from actions.models import Action, ChaseNotice, Digest, Notification
from actions.policy import DOMAIN_OFFICE
from config import mail
from config.sql import hold_lock, insert_select, run_alone
from config.text import one_line

logger = logging.getLogger(__name__)

# Stored in English with each in-app notification; translated where it is shown (the digest).
STAGE_TEXT = {
    "reminder_7d": gettext_noop("due within a week"),
    "reminder_1d": gettext_noop("due tomorrow"),
    "overdue": gettext_noop("overdue"),
    "unit_head": gettext_noop("overdue a week: escalated to the unit head"),
    "owning_office": gettext_noop("overdue two weeks: escalated to the owning office"),
    "committee": gettext_noop("overdue a month: escalated to the Risk Compliance Committee"),
}
COMMITTEE_STAGE = "committee"  # the last rung: its notice puts the action on the agenda
# Batches writing into waiting digests take this lock shared; claiming digests to mail takes
# it alone, so a digest is never claimed while a batch is still writing items into it (those
# items would be committed after the mail was read, and never sent).
DIGESTS_FILLING = 0x52434344
CHASING = 0x52434343  # one run of the chase at a time: held for the whole run
DIGEST_BATCH = 500  # digests claimed, rendered and mailed together over one mail connection
DIGEST_TEMPLATE = "actions/mail/digest.txt"


@dataclass
class ChaseResult:
    """What one run did: stages reached per stage name, and digests mailed; or that it found
    another run under way and left the chase to it."""

    stages: Counter[str] = field(default_factory=Counter)
    digests: int = 0
    skipped: bool = False


def _due(spec: dict[str, Any], today: dt.date) -> QuerySet[Action]:
    days = int(spec["days"])
    actions = Action.objects.open()
    if days < 0:  # a reminder: from `days` before the due date until the due date itself
        return actions.filter(due_on__gte=today, due_on__lte=today + dt.timedelta(days=-days))
    # A submitted action waits on its verifier, not on its unit: no overdue notices for it.
    return actions.exclude(status=Action.Status.SUBMITTED).filter(
        due_on__lte=today - dt.timedelta(days=days)
    )


def _office_code(domain: str) -> str:
    return str(DOMAIN_OFFICE.get(domain, OfficeCode.CEO))  # type: ignore[call-overload]


def owning_offices(actions: list[Action]) -> dict[int, set[int]]:
    """The holder of the office owning each action's domain, and anyone acting for it now."""
    people = office_people({_office_code(a.domain) for a in actions})
    return {a.pk: people[_office_code(a.domain)] for a in actions}


def _committee_people() -> set[int]:
    """The chair and the secretariat, who put it on the next agenda."""
    chair = Office.objects.filter(code=OfficeCode.CEO, holder__isnull=False)
    secretaries = User.objects.filter(groups__name=Role.SECRETARY, is_active=True)
    return set(chair.values_list("holder_id", flat=True)) | set(
        secretaries.values_list("pk", flat=True)
    )


def _recipients(audience: str, batch: QuerySet[Action]) -> list[QuerySet[Action]]:
    """Querysets of the batch's actions annotated with `recipient`: one per way of finding the
    people to tell, so each becomes one INSERT ... SELECT however many actions it covers."""
    if audience == "owner":
        # The assignee; unassigned work goes to the unit head, whose job is to assign it (telling
        # all forty people of a unit about every unassigned action is the noise we avoid).
        return [
            batch.filter(assignee__isnull=False).annotate(recipient=F("assignee_id")),
            batch.filter(assignee__isnull=True, unit__head__isnull=False).annotate(
                recipient=F("unit__head_id")
            ),
        ]
    if audience == "unit_head":
        return [batch.filter(unit__head__isnull=False).annotate(recipient=F("unit__head_id"))]
    if audience == "office":
        people = office_people({_office_code(d) for d in DOMAIN_OFFICE} | {OfficeCode.CEO})
        domains: dict[str, list[str]] = defaultdict(list)
        for domain in {d for d, _label in Action._meta.get_field("domain").choices or ()}:
            domains[_office_code(domain)].append(domain)
        return [
            batch.filter(domain__in=domains[code]).annotate(recipient=Value(person))
            for code in sorted(domains)
            for person in sorted(people.get(code, ()))
        ]
    if audience == "committee":
        return [batch.annotate(recipient=Value(person)) for person in sorted(_committee_people())]
    raise ValueError(f"Unknown chase audience {audience!r}")


def _chase_batch(
    spec: dict[str, Any], today: dt.date, moment: dt.datetime, after: tuple[dt.date, int] | None
) -> tuple[int, tuple[dt.date, int] | None]:
    """Claim and notify one batch of actions for one stage, in order of due date from where the
    last batch stopped (`after`): a run reads each candidate once, not once a batch. Returns how
    many it claimed and where it stopped (None when nothing is left to claim)."""
    stage = str(spec["stage"])
    due = _due(spec, today)
    if after is not None:
        day, pk = after
        due = due.filter(due_on__gte=day).exclude(due_on=day, pk__lte=pk)
    with transaction.atomic():
        hold_lock(DIGESTS_FILLING, shared=True)
        candidates = (
            due.exclude(chase_notices__stage=stage)
            .order_by("due_on", "pk")
            .select_for_update(skip_locked=True, of=("self",))
            .annotate(claimed=F("pk"))
            .values("claimed")[: settings.CHASE_BATCH_SIZE]
        )
        claimed = insert_select(
            ChaseNotice,
            {"action_id": "claimed"},
            candidates,
            ignore_conflicts=True,
            stage=stage,
            created_at=moment,
        )
        if not claimed:
            return 0, None
        batch = Action.objects.filter(pk__in=claimed)
        # Where the batch stopped, from its own rows: asked as ORDER BY ... LIMIT 1, PostgreSQL
        # walks the whole (due_on, id) index backwards looking for the batch's oldest dates.
        last = max(batch.values_list("due_on", "pk"))
        level = int(spec["level"])
        if level:
            batch.filter(escalation_level__lt=level).update(escalation_level=level)
        message = Substr(
            Concat(
                "reference",
                Value(" "),
                "title",
                Value(" ("),
                "unit__code",
                Value(", due "),
                Cast("due_on", CharField()),
                Value(f"): {STAGE_TEXT.get(stage, stage)}"),
                output_field=CharField(),
            ),
            1,
            500,
        )
        for told in _recipients(str(spec["audience"]), batch):
            _tell(told, stage=stage, message=message, moment=moment)
        _open_digests(moment)
    return len(claimed), last


def chase_stages(*, today: dt.date, now: dt.datetime | None = None) -> Counter[str]:
    """Every stage, batch after batch: the set-based part of a run."""
    moment = now or timezone.now()
    reached: Counter[str] = Counter()
    for spec in settings.CHASE_STAGES:
        after: tuple[dt.date, int] | None = None
        while True:
            count, after = _chase_batch(spec, today, moment, after)
            if after is None:
                break
            reached[str(spec["stage"])] += count
    return reached


def _open_digests(moment: dt.datetime) -> None:
    """Digests for the people a batch told who had none waiting: opened, and the batch's
    notifications to them put in. One INSERT and one UPDATE, over those notifications only
    (each person's first of a run, at most); everyone else's went straight into theirs.
    What a run killed midway told people waits in their digest, and the next run adds to it:
    one mail, not two."""
    orphans = Notification.objects.filter(digest__isnull=True, created_at=moment)
    insert_select(
        Digest,
        {"recipient_id": "person"},
        orphans.order_by().annotate(person=F("recipient_id")).values("person").distinct(),
        created_at=moment,
    )
    orphans.update(digest=Subquery(_waiting_digest().values("pk")[:1]))


def _waiting_digest() -> QuerySet[Digest]:
    """The digest still to be mailed to the recipient of the outer row (one a person)."""
    return Digest.objects.filter(recipient=OuterRef("recipient"), sent_at__isnull=True).order_by(
        "pk"
    )


def _tell(told: QuerySet[Action], *, stage: str, message: Any, moment: dt.datetime) -> None:
    """Tell each recipient of `told` about its actions, each notification written into the
    recipient's waiting digest (if there is none yet, `_open_digests` opens it): one
    statement however many are told."""
    insert_select(
        Notification,
        {"recipient_id": "recipient", "action_id": "told_about", "message": "message",
         "digest_id": "into"},
        told.order_by().annotate(
            told_about=F("pk"),
            message=message,
            into=Subquery(_waiting_digest().values("pk")[:1]),
        ).values("recipient", "told_about", "message", "into"),
        ignore_conflicts=True,
        stage=stage,
        created_at=moment,
    )  # fmt: skip


def _digest_mail(recipient: dict[str, Any], items: list[dict[str, Any]]) -> EmailMessage:
    """The digest in its reader's language, composed now from each item's action and stage
    (not from the English stored for the in-app list), each item with its action's link."""
    count = len(items)
    subject, body = mail.compose(
        DIGEST_TEMPLATE,
        {"recipient": recipient["name"], "items": items},
        language=recipient["language"],
        subject=lambda: (
            ngettext(
                "[RCC] %(count)d action needs your attention",
                "[RCC] %(count)d actions need your attention",
                count,
            )
            % {"count": count}
        ),
    )
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient["email"]])


def send_digests(ids: list[int] | None = None, *, now: dt.datetime | None = None) -> int:
    """Mail unsent digests (these, or all), a batch at a time over one mail connection. A digest
    is claimed by a conditional update before it is sent, so a retry never mails it twice; one
    that fails to send is released for the next run. Returns how many were mailed."""
    moment = now or timezone.now()
    unsent = Digest.objects.filter(sent_at__isnull=True)
    if ids is not None:
        unsent = unsent.filter(pk__in=ids)
    get_template(DIGEST_TEMPLATE)  # a broken template fails here, before any digest is claimed
    sent, after = 0, 0
    while True:
        # In order of id, each batch after the last: one that failed and was released waits
        # for the next run instead of being tried again at once.
        with transaction.atomic():
            hold_lock(DIGESTS_FILLING)
            batch = list(
                unsent.filter(pk__gt=after)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:DIGEST_BATCH]
            )
            Digest.objects.filter(pk__in=batch).update(sent_at=moment)
        if not batch:
            return sent
        after = batch[-1]
        sent += _mail_batch(batch)


def _mail_batch(batch: list[int]) -> int:
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        Notification.objects.filter(digest_id__in=batch)
        .order_by("digest_id", "action__due_on", "pk")
        .values_list(
            "digest_id",
            "stage",
            "action_id",
            "action__reference",
            "action__title",
            "action__unit__code",
            "action__due_on",
        )
    )
    for digest_id, stage, action_id, reference, title, unit, due_on in rows:
        items[digest_id].append(
            {
                "reference": reference,
                # On its own line, whatever the title held when it was stored.
                "title": one_line(title),
                "unit": unit,
                "due_on": due_on,
                "stage": gettext_lazy(STAGE_TEXT.get(stage, stage)),  # in the reader's language
                "link": mail.link("actions:action", action_id),
            }
        )
    people = {
        digest.pk: {
            "name": one_line(str(digest.recipient)),
            "email": digest.recipient.email,
            "language": mail.language_of(digest.recipient),
        }
        for digest in Digest.objects.filter(pk__in=batch).select_related("recipient")
    }
    connection = get_connection()
    try:
        connection.open()
    except Exception:
        Digest.objects.filter(pk__in=batch).update(sent_at=None)  # all back, for the next run
        logger.exception("mail server unreachable; %s digests will be retried", len(batch))
        return 0
    sent = 0
    try:
        for digest_id in batch:
            person = people[digest_id]
            if not person["email"] or not items.get(digest_id):
                continue
            try:
                connection.send_messages([_digest_mail(person, items[digest_id])])
            except Exception:
                # Release the claim: the next run sends it. Never lose a digest to a mail outage.
                Digest.objects.filter(pk=digest_id).update(sent_at=None)
                logger.exception("digest %s not sent; will retry", digest_id)
                continue
            sent += 1
    finally:
        connection.close()
    return sent


def chase_actions(*, now: dt.datetime | None = None) -> ChaseResult:
    """One run of the chase: every stage, in batches, then the digests. A run that starts while
    another is under way does nothing: the other one chases everything due, and two would each
    mail a person a digest of what each claimed (the hourly beat, a redelivery or an admin's
    run-now can overlap). What it leaves is due again at the next run."""
    moment = now or timezone.now()
    with run_alone(CHASING) as alone:
        if not alone:
            # A warning, not a note: runs skipped hour after hour mean one is stuck.
            logger.warning("another chase is under way; this run leaves it to that one")
            return ChaseResult(skipped=True)
        result = ChaseResult(stages=chase_stages(today=timezone.localdate(moment), now=moment))
        result.digests = send_digests(now=moment)
    return result
