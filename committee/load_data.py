"""A company-sized data set for the benchmarks: units, people, systems, cases, actions, meetings.

Written with PostgreSQL's COPY and set-based INSERT ... SELECT, deterministic from a seed: the
same seed on the same day gives the same rows (dates are laid out relative to the run's day, so
what is overdue stays overdue). At scale 1: 500 business units, 20,000 people, 10,000 systems,
50,000 incidents, 50,000 risks, 1,000,000 actions of which 100,000 are overdue, spread over
every chase stage, 60 held meetings with their agendas, and the guardian grants scoping needs;
200 components on every system (2,000,000) over 4,000 packages, and 250,000 affected ranges.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
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
from systems.models import Component, System, SystemGroupObjectPermission
from vulnerabilities.models import Advisory, AffectedRange, Alias, Vulnerability
from vulnerabilities.models import Severity as VulnerabilitySeverity

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
    "packages": 4_000,
    "ranges": 250_000,
}
COMPONENTS_PER_SYSTEM = 200  # not scaled: a smaller company has fewer systems, not smaller ones


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
    packages: int = 0
    components: int = 0
    vulnerabilities: int = 0
    ranges: int = 0


def sizes(scale: float) -> dict[str, int]:
    """The row counts at a scale; every kind keeps at least one (three units, three meetings)."""
    wanted = {name: max(1, round(count * scale)) for name, count in AT_SCALE_1.items()}
    wanted["units"] = max(3, wanted["units"])
    wanted["users"] = max(wanted["units"] * 2, wanted["users"])
    wanted["meetings"] = max(3, min(AT_SCALE_1["meetings"], wanted["meetings"]))
    wanted["overdue"] = min(wanted["overdue"], wanted["actions"] // 2)
    wanted["packages"] = max(2 * COMPONENTS_PER_SYSTEM, wanted["packages"])
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


# Packages a company runs, by ecosystem: the well-known first (most systems run them), then a
# long tail of in-house and lesser libraries. Advisories name these and as many packages again
# that nobody here runs (feeds cover far more than any one company uses).
ECOSYSTEMS = {  # scheme: (weight, the well-known packages' keys)
    "npm": (30, ["lodash", "express", "axios", "minimist", "moment", "jsonwebtoken", "ws"]),
    "pypi": (30, ["django", "requests", "urllib3", "jinja2", "pyyaml", "cryptography"]),
    "maven": (
        25,
        [
            "org.apache.logging.log4j/log4j-core",
            "com.fasterxml.jackson.core/jackson-databind",
            "org.springframework/spring-web",
            "org.apache.commons/commons-text",
        ],
    ),
    "deb": (15, ["debian/openssl", "debian/glibc", "debian/zlib", "debian/curl", "debian/bash"]),
}
VERSIONS_PER_PACKAGE = 20  # ascending; the last five are current, the rest old
CURRENT = 5
OLD_SHARE = 0.02  # of components: an old version, most of them inside some advisory's range
IN_USE_SHARE = 0.1  # of affected ranges: over packages systems run (the rest over others)


@dataclass(frozen=True)
class Package:
    """A generated package: its key, scheme and versions, ascending by its scheme's rules."""

    key: str
    scheme: str
    versions: tuple[str, ...]
    epoch: str = ""  # Debian packages with an epoch: "1:" before every version

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    def identifier(self, version: str) -> str:
        """The Package URL as an SBOM writes it (a Debian epoch as a qualifier)."""
        if self.epoch:
            return f"{self.key}@{version.split(':', 1)[1]}?epoch={self.epoch.rstrip(':')}"
        return f"{self.key}@{version}"


def _versions(rng: random.Random, scheme: str) -> tuple[tuple[str, ...], str]:
    """VERSIONS_PER_PACKAGE ascending versions in the scheme's usual shape; Debian ones with a
    revision and, for a third of packages, an epoch."""
    major, minor, patch = rng.randint(0, 5), rng.randint(0, 9), 0
    epoch = "1:" if scheme == "deb" and rng.random() < 1 / 3 else ""
    found = []
    for _i in range(VERSIONS_PER_PACKAGE):
        step = rng.random()
        if step < 0.6:
            patch += 1
        elif step < 0.9:
            minor, patch = minor + 1, 0
        else:
            major, minor, patch = major + 1, 0, 0
        if scheme == "deb":
            revision = rng.choice(["-1", "-2", "-1+deb11u1", "-3+deb12u2"])
            found.append(f"{epoch}{major}.{minor}.{patch}{revision}")
        else:
            found.append(f"{major}.{minor}.{patch}")
    return tuple(found), epoch


def _key(scheme: str, name: str) -> str:
    return f"pkg:{scheme}/{name}"


def _tail_name(scheme: str, i: int, kind: str) -> str:
    if scheme == "maven":
        return f"com.example.{kind}/lib-{i}"
    if scheme == "deb":
        return f"debian/{kind}-lib-{i}"
    return f"{kind}-lib-{i}"


def catalogue(rng: random.Random, n: int, *, kind: str = "ld") -> list[Package]:
    """n packages across the ecosystems, the well-known first (kind "ld": ones systems run;
    any other kind: a tail nobody runs, named apart)."""
    schemes = list(ECOSYSTEMS)
    weights = [ECOSYSTEMS[s][0] for s in schemes]
    known = [(s, name) for s in schemes for name in ECOSYSTEMS[s][1]] if kind == "ld" else []
    names = known[:n]
    for i in range(n - len(names)):
        scheme = rng.choices(schemes, weights)[0]
        names.append((scheme, _tail_name(scheme, i, kind)))
    found = []
    for scheme, name in names:
        versions, epoch = _versions(rng, scheme)
        found.append(Package(_key(scheme, name), scheme, versions, epoch))
    return found


def _vers(package: Package, low: int, high: int) -> str:
    """`vers:<scheme>/>=low|<high`, or `<high` from the first version."""
    upper = package.versions[high]
    if low == 0:
        return f"vers:{package.scheme}/<{upper}"
    return f"vers:{package.scheme}/>={package.versions[low]}|<{upper}"


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
            ("components and advisories", self.vulnerabilities),
        ]
        for name, step in steps:
            started = timezone.now()
            with transaction.atomic():
                step()
            progress(f"{name}: {(timezone.now() - started).total_seconds():.1f} s")
        _settle()
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

    def add_vulnerabilities(self, progress: Callable[[str], None] = lambda line: None) -> Counts:
        """Components and advisories for a database generated before they were: its systems'
        inventories and the advisories that match them (refused when it has components)."""
        if Component.objects.filter(system__code__startswith="ld-sys-").exists():
            raise RuntimeError("This database already holds generated components.")
        self.system_ids = list(
            System.objects.filter(code__startswith="ld-sys-")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        started = timezone.now()
        with transaction.atomic():
            self.vulnerabilities()
        progress(f"components and advisories: {(timezone.now() - started).total_seconds():.1f} s")
        _settle()
        return self.counts

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
                    # Verified three days before it was due, at noon in Tokyo: finished work
                    # has a finishing date, or every verified action reads late for ever.
                    dt.datetime.combine(due - dt.timedelta(days=3), dt.time(3, 0), tzinfo=dt.UTC)
                    if status == A.VERIFIED
                    else None,
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
                "verified_at",
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

    def vulnerabilities(self) -> None:
        """Every system's inventory (COMPONENTS_PER_SYSTEM packages, the popular ones on most
        systems, mostly at a current version) and advisories with their affected ranges, a tenth
        of them over packages systems run, each over a span of old versions: a small share of
        components is affected."""
        rng = self.rng("vulnerabilities")
        n_packages, n_ranges = self.sizes["packages"], self.sizes["ranges"]
        used = catalogue(rng, n_packages)
        in_use = max(2 * n_packages, round(n_ranges * IN_USE_SHARE))
        others = catalogue(rng, max(1, n_packages), kind="other")
        self.counts.packages = len(used)
        # Zipf-like popularity: the well-known packages are on nearly every system, the tail on few.
        cumulative = list(itertools.accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(used))))
        current = range(VERSIONS_PER_PACKAGE - CURRENT, VERSIONS_PER_PACKAGE)
        added = self.now - dt.timedelta(days=30)

        def components() -> Iterator[tuple[Any, ...]]:
            for system_id in self.system_ids:
                picked: dict[int, None] = {}
                while len(picked) < COMPONENTS_PER_SYSTEM:
                    for index in rng.choices(range(len(used)), cum_weights=cumulative, k=64):
                        picked[index] = None
                        if len(picked) == COMPONENTS_PER_SYSTEM:
                            break
                for index in picked:
                    package = used[index]
                    if rng.random() < OLD_SHARE:
                        version = package.versions[rng.randrange(VERSIONS_PER_PACKAGE - CURRENT)]
                    else:
                        version = package.versions[rng.choice(current)]
                    yield (
                        system_id,
                        Component.Kind.PURL,
                        package.key,
                        package.scheme,
                        package.name,
                        version,
                        package.identifier(version),
                        Component.Source.SBOM,
                        added,
                    )

        self.counts.components = _copy(
            Component,
            [
                "system_id",
                "kind",
                "package",
                "scheme",
                "name",
                "version",
                "identifier",
                "source",
                "added_at",
            ],
            components(),
        )
        self._advisories(rng, used, others, in_use)

    def _advisories(
        self, rng: random.Random, used: list[Package], others: list[Package], in_use: int
    ) -> None:
        """One to three ranges an advisory, on one package (a flaw fixed on several branches),
        each over a span of old versions, fixed by the version after it; one vulnerability an
        advisory, named by its CVE (its alias too)."""
        n_ranges = self.sizes["ranges"]
        planned: list[tuple[Package, list[tuple[int, int]]]] = []
        left_in_use, left = in_use, n_ranges
        while left > 0:
            pool = used if left_in_use > 0 else others
            package = pool[rng.randrange(len(pool))]
            spans = []
            for _i in range(min(left, rng.choice([1, 1, 1, 2, 3]))):
                high = rng.randint(1, VERSIONS_PER_PACKAGE - CURRENT)
                spans.append((max(0, high - rng.randint(1, 4)), high))
            planned.append((package, spans))
            left -= len(spans)
            left_in_use -= len(spans) if pool is used else 0
        S = VulnerabilitySeverity
        severities = [S.CRITICAL, S.HIGH, S.MEDIUM, S.LOW]
        scores = {S.CRITICAL: "9.8", S.HIGH: "7.5", S.MEDIUM: "5.3"}
        first = self.now - dt.timedelta(days=10 * 365)

        def vulnerabilities() -> Iterator[tuple[Any, ...]]:
            for i, (package, _spans) in enumerate(planned):
                severity = rng.choices(severities, weights=[10, 35, 45, 10])[0]
                yield (
                    f"CVE-{2015 + i % 11}-{100000 + i}",
                    f"Flaw {i} in {package.name}",
                    severity,
                    scores.get(severity, "3.1"),
                    first + dt.timedelta(minutes=i * 37),
                    self.now,
                )

        self.counts.vulnerabilities = _copy(
            Vulnerability,
            ["key", "summary", "severity", "cvss_score", "published_at", "updated_at"],
            vulnerabilities(),
        )
        generated = list(
            Vulnerability.objects.filter(summary__startswith="Flaw ")
            .order_by("pk")
            .values_list("pk", "key", "published_at")
        )
        _copy(
            Alias,
            ["name", "vulnerability_id"],
            ((key, pk) for pk, key, _published in generated),
        )
        _copy(
            Advisory,
            [
                "source",
                "source_id",
                "vulnerability_id",
                "summary",
                "cvss_vectors",
                "references",
                "published_at",
                "modified_at",
                "digest",
                "imported_at",
            ],
            (
                ("osv", f"GHSA-ld-{i:07d}", pk, "", "[]", "[]", published, published, "", self.now)
                for i, (pk, _key, published) in enumerate(generated)
            ),
        )
        advisory_ids = list(
            Advisory.objects.filter(source_id__startswith="GHSA-ld-")
            .order_by("source_id")
            .values_list("pk", flat=True)
        )

        def ranges() -> Iterator[tuple[Any, ...]]:
            for advisory_id, (package, spans) in zip(advisory_ids, planned, strict=True):
                for low, high in spans:
                    vers = _vers(package, low, high)
                    fixed = package.versions[high]
                    yield (
                        advisory_id,
                        package.key,
                        package.scheme,
                        vers,
                        json.dumps([fixed]),
                        False,
                        "[]",
                        f"OSV {package.scheme} range {vers}, fixed in {fixed}",
                    )

        self.counts.ranges = _copy(
            AffectedRange,
            [
                "advisory_id",
                "package",
                "scheme",
                "vers",
                "fixed",
                "review_only",
                "platforms",
                "rule",
            ],
            ranges(),
        )


def _settle() -> None:
    """Statistics for the planner, and the visibility map a table in service has from
    autovacuum (without it no index-only scan pays off, and the planner reads whole tables
    that production would answer from an index). VACUUM cannot run inside a transaction: there
    (a test generating a little data) the statistics alone."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
