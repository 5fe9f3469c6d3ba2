"""A company-sized data set for the benchmarks: units, people, systems, cases, actions, meetings.

Written with PostgreSQL's COPY and set-based INSERT ... SELECT, deterministic from a seed: the
same seed on the same day gives the same rows (dates are laid out relative to the run's day, so
what is overdue stays overdue). At scale 1: 500 business units, 20,000 people, 10,000 systems,
50,000 incidents, 50,000 risks, 1,000,000 actions of which 100,000 are overdue, spread over
every chase stage, 60 held meetings with their agendas, and the guardian grants scoping needs.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import BusinessUnit, Membership, Office, OfficeCode, Role, User
from actions.models import Action, ActionGroupObjectPermission
from audit.services import reserve_block
from cases.models import (
    Incident,
    IncidentGroupObjectPermission,
    Risk,
    RiskGroupObjectPermission,
    RiskMatrixCell,
    Severity,
)
from committee.models import AgendaItem, Committee, CommitteeMember, Meeting
from config.sql import the_rest
from systems.models import System, SystemGroupObjectPermission

UNIT_PREFIX = "LD"  # every generated unit's code starts with it: a second run is refused
NOT_A_PASSWORD = "!generated"  # an unusable password hash: people sign in only through tokens
CHASE_ESCALATION_DAYS = 12.0  # mean days overdue: most late work is recent, a tail is months late

# How many of each at scale 1 (issue 8).
AT_SCALE_1 = {
    "units": 500,
    "users": 20_000,
    "systems": 10_000,
    "incidents": 50_000,
    "risks": 50_000,
    "actions": 1_000_000,
    "overdue": 100_000,
    "meetings": 60,
}


@dataclass
class Counts:
    """What one run wrote."""

    units: int = 0
    users: int = 0
    systems: int = 0
    incidents: int = 0
    risks: int = 0
    actions: int = 0
    overdue: int = 0
    meetings: int = 0
    agenda_items: int = 0
    grants: int = 0


def sizes(scale: float) -> dict[str, int]:
    """The row counts at a scale; every kind keeps at least one (three units, three meetings)."""
    wanted = {name: max(1, round(count * scale)) for name, count in AT_SCALE_1.items()}
    wanted["units"] = max(3, wanted["units"])
    wanted["users"] = max(wanted["units"] * 2, wanted["users"])
    wanted["meetings"] = max(3, min(AT_SCALE_1["meetings"], wanted["meetings"]))
    wanted["overdue"] = min(wanted["overdue"], wanted["actions"] // 2)
    return wanted


def _copy(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY rows into a model's table; ids come from its sequence, and every column a row does
    not give takes the model field's default (the database has none of Django's defaults)."""
    rest = the_rest(model, columns)
    filler = list(rest.values())
    table = connection.ops.quote_name(str(model._meta.db_table))
    names = ", ".join(connection.ops.quote_name(str(c)) for c in [*columns, *rest])
    written = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3's own cursor: Django's wrapper has no COPY
        with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, *filler))
                written += 1
    return written


def _grant(grant_model: type[models.Model], model: type[models.Model]) -> int:
    """View and change, to the owning unit's group, for every generated row: one INSERT ... SELECT
    (the same rows accounts.services.grant_to_unit writes one object at a time)."""
    permissions = list(
        Permission.objects.filter(
            content_type__app_label=model._meta.app_label,
            codename__in=[f"view_{model._meta.model_name}", f"change_{model._meta.model_name}"],
        ).values_list("pk", flat=True)
    )
    grants = grant_model._meta.db_table
    table = model._meta.db_table
    with connection.cursor() as cursor:
        # Table names come from the models, values are parameters.
        statement = (
            f"INSERT INTO {grants} (permission_id, group_id, content_object_id) "  # noqa: S608  # nosec B608
            f"SELECT p.id, u.group_id, t.id FROM {table} t "
            "JOIN accounts_businessunit u ON u.id = t.unit_id AND u.code LIKE %s "
            "CROSS JOIN auth_permission p WHERE p.id = ANY(%s)"
        )
        cursor.execute(statement, [f"{UNIT_PREFIX}%", permissions])
        return cursor.rowcount


class Generator:
    """One run: call `run()`; each step writes one kind of row."""

    def __init__(self, *, scale: float, seed: int, today: dt.date | None = None) -> None:
        self.scale = scale
        self.seed = seed
        self.sizes = sizes(scale)
        self.today = today or timezone.localdate()
        self.now = timezone.now()
        self.year = self.today.year
        self.counts = Counts()

    def rng(self, step: str) -> random.Random:
        """A generator per step, so adding a step never changes another step's rows."""
        return random.Random(f"{self.seed}:{step}")  # noqa: S311 - test data, not secrets

    def run(self, progress: Callable[[str], None] = lambda line: None) -> Counts:
        if connection.vendor != "postgresql":
            raise RuntimeError("generate_load_data writes with COPY: it needs PostgreSQL.")
        if BusinessUnit.objects.filter(code__startswith=UNIT_PREFIX).exists():
            raise RuntimeError("This database already holds generated data; use a fresh one.")
        steps: list[tuple[str, Callable[[], None]]] = [
            ("offices and committee", self.offices),
            ("units and people", self.people),
            ("systems", self.systems),
            ("incidents", self.incidents),
            ("risks", self.risks),
            ("actions", self.actions),
            ("meetings and agendas", self.meetings),
        ]
        for name, step in steps:
            started = timezone.now()
            with transaction.atomic():
                step()
            progress(f"{name}: {(timezone.now() - started).total_seconds():.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return self.counts

    # --- steps ------------------------------------------------------------------------------

    def offices(self) -> None:
        """The CxOs, the secretariat and an auditor, seated on the committee."""
        groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
        self.officers: dict[str, User] = {}
        for code in OfficeCode.values:
            user = User.objects.create(
                username=f"ld-{code.lower()}",
                email=f"{code.lower()}@load.example",
                password=NOT_A_PASSWORD,
                display_name=f"{code} (load data)",
            )
            user.groups.add(groups[Role.CHAIR if code == OfficeCode.CEO else Role.CXO])
            Office.objects.filter(code=code).update(holder=user)
            self.officers[code] = user
        self.secretary = User.objects.create(
            username="ld-secretary", email="secretary@load.example", password=NOT_A_PASSWORD
        )
        self.secretary.groups.add(groups[Role.SECRETARY])
        auditor = User.objects.create(
            username="ld-auditor", email="auditor@load.example", password=NOT_A_PASSWORD
        )
        auditor.groups.add(groups[Role.AUDITOR])
        self.committee, _created = Committee.objects.get_or_create(
            slug="rcc",
            defaults={
                "name": "Risk Compliance Committee",
                "chair_office": Office.objects.get(code=OfficeCode.CEO),
            },
        )
        for office in Office.objects.exclude(code=OfficeCode.CEO):
            CommitteeMember.objects.get_or_create(committee=self.committee, office=office)
        self.committee.secretariat.add(self.secretary)

    def people(self) -> None:
        """Units under twenty divisions, each with a group holding its head and members."""
        n_units, n_users = self.sizes["units"], self.sizes["users"]
        rng = self.rng("people")
        groups = Group.objects.bulk_create(
            [Group(name=f"unit:{UNIT_PREFIX}{i:04d}") for i in range(n_units)]
        )
        users = User.objects.bulk_create(
            [
                User(
                    username=f"ld{i:06d}",
                    email=f"ld{i:06d}@load.example",
                    password=NOT_A_PASSWORD,
                    display_name=f"Person {i}",
                )
                for i in range(n_users)
            ],
            batch_size=5000,
        )
        # Person i belongs to unit i % n_units; the first person of each unit heads it.
        divisions = min(20, n_units)
        units = []
        for i in range(n_units):
            units.append(
                BusinessUnit(
                    code=f"{UNIT_PREFIX}{i:04d}",
                    name=f"Business unit {i} ({rng.choice(['Public', 'Finance', 'Health', 'Cloud', 'Retail'])})",
                    head=users[i],
                    group=groups[i],
                )
            )
        units = BusinessUnit.objects.bulk_create(units, batch_size=2000)
        for i in range(divisions, n_units):
            units[i].parent = units[i % divisions]
        BusinessUnit.objects.bulk_update(units[divisions:], ["parent"], batch_size=2000)
        self.units = units
        self.heads = {unit.pk: users[i].pk for i, unit in enumerate(units)}
        self.members: dict[int, list[int]] = {unit.pk: [] for unit in units}
        memberships, in_groups = [], []
        head_role = Group.objects.get(name=Role.BU_HEAD)
        member_role = Group.objects.get(name=Role.BU_MEMBER)
        for i, user in enumerate(users):
            unit = units[i % n_units]
            self.members[unit.pk].append(user.pk)
            memberships.append(Membership(user=user, unit=unit))
            in_groups.append(User.groups.through(user_id=user.pk, group_id=unit.group_id))
            role = head_role if i < n_units else member_role
            in_groups.append(User.groups.through(user_id=user.pk, group_id=role.pk))
        Membership.objects.bulk_create(memberships, batch_size=5000)
        User.groups.through.objects.bulk_create(in_groups, batch_size=5000)
        self.counts.units, self.counts.users = len(units), len(users)

    def systems(self) -> None:
        rng = self.rng("systems")
        environments = list(System.Environment.values)
        criticality = list(System.Criticality.values)
        registered_by = self.officers[OfficeCode.CISO].pk

        def rows() -> Iterator[tuple[Any, ...]]:
            for i in range(self.sizes["systems"]):
                unit = self.units[i % len(self.units)]
                yield (
                    f"ld-sys-{i:06d}",
                    f"System {i}",
                    unit.pk,
                    "",
                    rng.choices(environments, weights=[6, 2, 1, 1])[0],
                    rng.random() < 0.3,
                    rng.random() < 0.4,
                    rng.random() < 0.7,
                    rng.choice(criticality),
                    System.Status.OPERATIONAL,
                    System.Registration.REGISTERED,
                    registered_by,
                    self.now,
                    self.now,
                )

        self.counts.systems = _copy(
            System,
            [
                "code",
                "name",
                "unit_id",
                "description",
                "environment",
                "internet_facing",
                "handles_personal_data",
                "mfa_enforced",
                "criticality",
                "status",
                "registration",
                "registered_by_id",
                "created_at",
                "updated_at",
            ],
            rows(),
        )
        self.system_ids = list(
            System.objects.filter(code__startswith="ld-sys-")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        self.counts.grants += _grant(SystemGroupObjectPermission, System)

    def incidents(self) -> None:
        rng = self.rng("incidents")
        n = self.sizes["incidents"]
        first = reserve_block("INC", n, year=self.year)
        categories = list(Incident.Category.values)
        statuses = list(Incident.Status.values)

        def rows() -> Iterator[tuple[Any, ...]]:
            for i in range(n):
                unit = self.units[i % len(self.units)]
                reported = self.now - dt.timedelta(minutes=rng.randrange(5 * 365 * 24 * 60))
                status = rng.choices(statuses, weights=[2, 2, 3, 2, 3, 40])[0]
                yield (
                    f"INC-{self.year}-{first + i:04d}",
                    f"Incident {i}",
                    "Generated for the benchmarks.",
                    rng.choice(categories),
                    rng.choices(Severity.values, weights=[50, 35, 12, 3])[0],
                    "security",
                    unit.pk,
                    self.heads[unit.pk],
                    reported - dt.timedelta(hours=2),
                    reported,
                    rng.random() < 0.1,
                    status,
                    "Generated root cause." if status == "closed" else "",
                    reported + dt.timedelta(days=20) if status == "closed" else None,
                    reported,
                    reported,
                )

        self.counts.incidents = _copy(
            Incident,
            [
                "reference",
                "title",
                "description",
                "category",
                "severity",
                "domain",
                "unit_id",
                "reporter_id",
                "detected_at",
                "reported_at",
                "personal_data_involved",
                "status",
                "root_cause",
                "closed_at",
                "created_at",
                "updated_at",
            ],
            rows(),
        )
        self.counts.grants += _grant(IncidentGroupObjectPermission, Incident)

    def risks(self) -> None:
        rng = self.rng("risks")
        n = self.sizes["risks"]
        first = reserve_block("RSK", n, year=self.year)
        levels = {
            (cell.likelihood, cell.impact): cell.level for cell in RiskMatrixCell.objects.all()
        }
        statuses = list(Risk.Status.values)
        appetite = settings.RISK_APPETITE_SCORE

        def rows() -> Iterator[tuple[Any, ...]]:
            for i in range(n):
                unit = self.units[i % len(self.units)]
                likelihood, impact = rng.randint(1, 5), rng.randint(1, 5)
                residual_l, residual_i = rng.randint(1, likelihood), rng.randint(1, impact)
                residual = residual_l * residual_i
                yield (
                    f"RSK-{self.year}-{first + i:04d}",
                    f"Risk {i}",
                    unit.pk,
                    "security",
                    self.heads[unit.pk],
                    likelihood,
                    impact,
                    residual_l,
                    residual_i,
                    likelihood * impact,
                    residual,
                    levels.get((likelihood, impact), "moderate"),
                    levels.get((residual_l, residual_i), "moderate"),
                    residual > appetite,
                    Risk.Treatment.MITIGATE,
                    rng.choices(statuses, weights=[1, 2, 3, 6, 2])[0],
                    self.today + dt.timedelta(days=rng.randrange(1, 365)),
                    self.now,
                    self.now,
                )

        self.counts.risks = _copy(
            Risk,
            [
                "reference",
                "title",
                "unit_id",
                "domain",
                "owner_id",
                "likelihood",
                "impact",
                "residual_likelihood",
                "residual_impact",
                "inherent_score",
                "residual_score",
                "inherent_level",
                "residual_level",
                "above_appetite",
                "treatment",
                "status",
                "next_review_on",
                "created_at",
                "updated_at",
            ],
            rows(),
        )
        self.counts.grants += _grant(RiskGroupObjectPermission, Risk)

    def actions(self) -> None:
        """Finished work, work in hand and late work. The late work is overdue by 1 day to a
        year, most of it recently, so every chase stage has actions waiting for it."""
        rng = self.rng("actions")
        n, n_overdue = self.sizes["actions"], self.sizes["overdue"]
        first = reserve_block("ACT", n, year=self.year)
        issuer = self.officers[OfficeCode.CISO].pk
        late = set(rng.sample(range(n), n_overdue))
        self.counts.overdue = n_overdue
        A = Action.Status

        def rows() -> Iterator[tuple[Any, ...]]:
            for i in range(n):
                unit = self.units[i % len(self.units)]
                people = self.members[unit.pk]
                assignee = rng.choice(people) if rng.random() < 0.9 else None
                system = rng.choice(self.system_ids) if rng.random() < 0.5 else None
                if i in late:
                    days = 1 + min(364, int(rng.expovariate(1 / CHASE_ESCALATION_DAYS)))
                    due = self.today - dt.timedelta(days=days)
                    status = rng.choices([A.OPEN, A.IN_PROGRESS, A.RETURNED], [3, 6, 1])[0]
                else:
                    finished = rng.random() < 0.66
                    if finished:
                        due = self.today - dt.timedelta(days=rng.randrange(1, 5 * 365))
                        status = A.VERIFIED if rng.random() < 0.92 else A.CANCELLED
                    else:
                        due = self.today + dt.timedelta(days=rng.randrange(0, 180))
                        status = rng.choices([A.OPEN, A.IN_PROGRESS, A.SUBMITTED], [4, 5, 1])[0]
                created = self.now - dt.timedelta(days=(self.today - due).days + 60)
                yield (
                    f"ACT-{self.year}-{first + i:04d}",
                    f"Action {i}",
                    "",
                    "security" if rng.random() < 0.7 else "quality",
                    unit.pk,
                    assignee,
                    due,
                    rng.choices(Action.Priority.values, [2, 6, 2, 1])[0],
                    status,
                    system,
                    issuer,
                    OfficeCode.CISO,
                    "Superseded." if status == A.CANCELLED else "",
                    100 if status == A.VERIFIED else rng.choice([0, 10, 25, 50, 75]),
                    0,
                    1,
                    created,
                    created,
                )

        self.counts.actions = _copy(
            Action,
            [
                "reference",
                "title",
                "description",
                "domain",
                "unit_id",
                "assignee_id",
                "due_on",
                "priority",
                "status",
                "system_id",
                "issued_by_id",
                "issued_office",
                "cancel_reason",
                "percent_done",
                "escalation_level",
                "version",
                "created_at",
                "updated_at",
            ],
            rows(),
        )
        self.counts.grants += _grant(ActionGroupObjectPermission, Action)

    def meetings(self) -> None:
        """Five years of monthly meetings, held, each with an agenda of incidents and risks;
        and the next meeting, scheduled, for the benchmarks to assemble."""
        rng = self.rng("meetings")
        held = self.sizes["meetings"]
        incidents = list(Incident.objects.order_by("pk").values_list("pk", "reference", "unit_id"))
        risks = list(Risk.objects.order_by("pk").values_list("pk", "reference", "unit_id"))
        meetings = []
        for back in range(held, -1, -1):
            months = self.today.year * 12 + self.today.month - 1 - back
            month = dt.date(months // 12, months % 12 + 1, 10)
            starts = dt.datetime.combine(month, dt.time(10), tzinfo=dt.UTC)
            if back == 0:
                starts = self.now + dt.timedelta(days=14)
            meetings.append(
                Meeting(
                    committee=self.committee,
                    title=f"Risk Compliance Committee, {starts:%B %Y}",
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=2),
                    status=Meeting.Status.SCHEDULED if back == 0 else Meeting.Status.HELD,
                    published_at=None if back == 0 else starts - dt.timedelta(days=7),
                    held_at=None if back == 0 else starts,
                    ical_uid=f"load-{self.seed}-{back}@rcc.invalid",
                )
            )
        meetings = Meeting.objects.bulk_create(meetings)
        items = []
        for meeting in meetings[:-1]:
            picks = [("incident", row) for row in rng.sample(incidents, min(8, len(incidents)))]
            picks += [("risk", row) for row in rng.sample(risks, min(4, len(risks)))]
            for position, (kind, (pk, reference, unit_id)) in enumerate(picks, start=1):
                items.append(
                    AgendaItem(
                        meeting=meeting,
                        position=position,
                        kind=kind,
                        source_key=f"{kind}:{pk}",
                        title=reference,
                        unit_id=unit_id,
                        incident_id=pk if kind == "incident" else None,
                        risk_id=pk if kind == "risk" else None,
                    )
                )
        AgendaItem.objects.bulk_create(items, batch_size=5000)
        self.counts.meetings, self.counts.agenda_items = len(meetings), len(items)
