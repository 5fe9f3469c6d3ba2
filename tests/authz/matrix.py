"""The authorization matrix as data: one row per API route + method + object scope, mapping each
role to the outcome the authority rules ask for (docs/architecture.md, Authority).

Outcome classes: "ok" (2xx), "denied" (401/403), "hidden" (404: the object's existence is not
leaked), "invalid" (400/409/412/428: past authorization, the body or state is wrong).

Scopes: "own" = an object of the unit PUBSEC (bu_member's and bu_head's unit), "other" = an
object of the unit CLOUD (other_bu_member's), "none" = a collection, or an object that belongs
to no unit (committees, meetings) or to one person (notifications, calendar feeds: bu_member's).

Admins (superusers) hold no office: where authority belongs to an office (suspend, directives,
verify, decisions, minutes approval) an admin is refused like anyone else; where the product's
policy documents an administrator standing in (registering for any unit, a unit's changes, the
secretariat's work) an admin is allowed.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Model
from django.utils import timezone

from accounts.models import BusinessUnit, Office, User
from actions import services as action_services
from actions.models import Action, Directive, Notification
from audit.models import AuditEvent
from cases import services as case_services
from cases.matrix import load_nist_matrix
from cases.models import Incident, RecurrenceMeasure, Risk, TimelineEntry
from committee import services as committee_services
from committee.models import (
    AgendaItem,
    Attendance,
    Ballot,
    CadenceException,
    CalendarFeed,
    Committee,
    CommitteeMember,
    Decision,
    Meeting,
    Minutes,
    WrittenResolution,
)
from committee.services.minutes import etag as minutes_etag
from config.versioning import etag_of
from quality import services as quality_services
from quality.models import Project, QualityReport, ReleaseDecision, Review, Threshold
from systems import inventory
from systems import services as system_services
from systems.models import Component, NetworkIdentity, SbomUpload, SuspensionOrder, System
from tests.vulnerabilities.samples import sample
from vulnerabilities.models import (
    Advisory,
    DiscoveredAsset,
    ExposedService,
    FeedImport,
    Finding,
    RemediationDeadline,
    Scan,
)
from vulnerabilities.services import advisories as advisory_services

ROLES = (
    "anonymous",
    "member",
    "head",
    "other",
    "secretary",
    "cfo",
    "ciso",
    "cqo",
    "chair",
    "auditor",
    "reviewer",  # a quality reviewer of Quality HQ: no authority over cases, systems or actions
    "admin",
)
OK, DENIED, HIDDEN, INVALID = "ok", "denied", "hidden", "invalid"
STATUS_CLASSES: dict[str, Callable[[int], bool]] = {
    OK: lambda code: 200 <= code < 300,
    DENIED: lambda code: code in {401, 403},
    HIDDEN: lambda code: code == 404,
    INVALID: lambda code: code in {400, 409, 412, 428},
}
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
OVERSIGHT = frozenset({"secretary", "cfo", "ciso", "cqo", "chair", "auditor", "admin"})
AUDIT_READERS = frozenset({"auditor", "chair", "ciso", "cqo", "admin"})
# Who runs the meetings: the secretariat, the chair (who may do its every act, so a meeting goes
# ahead when the secretariat is away), and an administrator standing in.
SECRETARIAT = frozenset({"secretary", "admin", "chair"})


# --- The world every case starts from -----------------------------------------------------


@dataclass
class World:
    users: dict[str, User]
    unit: BusinessUnit
    other_unit: BusinessUnit
    committee: Committee
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def admin(self) -> User:
        return self.users["admin"]

    def unit_of(self, scope: str) -> BusinessUnit:
        return self.other_unit if scope == "other" else self.unit

    def member_of(self, scope: str) -> User:
        return self.users["other"] if scope == "other" else self.users["member"]

    def next(self) -> int:
        return next(self._seq)


@dataclass
class Req:
    """A request ready to send, and what to compare before and after a refused write."""

    url: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    snapshot: Callable[[], Any] = lambda: None


Setup = Callable[[World, str], Req]


def row_of(obj: Model) -> Callable[[], Any]:
    """The object's whole database row: any change to it shows."""
    model = type(obj)
    return lambda: model._default_manager.filter(pk=obj.pk).values().first()


def count_of(*models: type[Model]) -> Callable[[], Any]:
    return lambda: tuple(m._default_manager.count() for m in models)


def both(*snaps: Callable[[], Any]) -> Callable[[], Any]:
    return lambda: tuple(s() for s in snaps)


def future(days: int = 30) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


# --- Expected outcomes -----------------------------------------------------------------


def unit_roles(scope: str) -> frozenset[str]:
    return {
        "own": frozenset({"member", "head"}),
        "other": frozenset({"other"}),
    }.get(scope, frozenset())


def expect(
    scope: str,
    ok: frozenset[str] | set[str] = frozenset(),
    *,
    sees: frozenset[str] | set[str] | None = None,
    **override: str,
) -> dict[str, str]:
    """Anonymous is denied; a role allowed the act gets ok; a role that cannot see the object
    gets hidden (404); one that sees it but may not act gets denied (403). "unit" in `ok` or
    `sees` stands for the object's own unit's people."""

    def expand(roles: frozenset[str] | set[str]) -> set[str]:
        out = set(roles) - {"unit"}
        if "unit" in roles:
            out |= unit_roles(scope)
        return out

    allowed = expand(ok)
    seeing = expand(sees) if sees is not None else (unit_roles(scope) | OVERSIGHT)
    if scope == "none" and sees is None:
        seeing = set(SIGNED_IN)
    result = {}
    for role in ROLES:
        if role == "anonymous":
            result[role] = DENIED
        elif role in allowed:
            result[role] = OK
        elif role not in seeing:
            result[role] = HIDDEN
        else:
            result[role] = DENIED
    result.update(override)
    return result


@dataclass(frozen=True)
class Row:
    name: str  # the URL name, e.g. "system-suspend"
    method: str
    scope: str
    expected: dict[str, str]
    setup: Setup

    @property
    def id(self) -> str:
        return f"{self.name}-{self.method}-{self.scope}"

    @property
    def is_write(self) -> bool:
        return self.method not in {"GET", "HEAD", "OPTIONS"}


# --- Object builders (through the services, as the product makes them) --------------------


def make_system(w: World, scope: str, **fields: Any) -> System:
    n = w.next()
    return system_services.register_system(
        actor=w.admin, unit=w.unit_of(scope), code=f"sys-{scope}-{n}", name=f"SYS {n}", **fields
    )


def make_order(w: World, scope: str) -> SuspensionOrder:
    return system_services.suspend_system(
        actor=w.users["ciso"], system=make_system(w, scope), reason="Exposed admin console"
    )


def make_incident(w: World, scope: str, status: str = "reported") -> Incident:
    incident = case_services.report_incident(
        actor=w.member_of(scope),
        unit=w.unit_of(scope),
        title="Unauthorized access",
        description="Logins from an unknown network.",
        category=Incident.Category.UNAUTHORIZED_ACCESS,
        severity="high",
        detected_at=timezone.now() - dt.timedelta(hours=2),
    )
    path = ["triage", "investigate", "contain", "resolve", "close"]
    order = ["reported", "triaged", "investigating", "contained", "resolved", "closed"]
    if status in {"resolved", "closed"}:
        case_services.update_incident(actor=w.admin, incident=incident, root_cause="Weak MFA")
        make_measure(w, incident)
    for act in path[: order.index(status)]:
        incident = case_services.transition_incident(actor=w.admin, incident=incident, act=act)
    return incident


def make_measure(w: World, incident: Incident) -> RecurrenceMeasure:
    return case_services.add_measure(
        actor=w.admin,
        incident=incident,
        description="Enforce MFA",
        criteria={"internet_facing": True},
    )


def make_risk(w: World, scope: str, status: str = "identified", **fields: Any) -> Risk:
    load_nist_matrix()
    values: dict[str, Any] = {"title": "Stale accounts", "likelihood": 4, "impact": 4, **fields}
    risk = case_services.register_risk(
        actor=w.member_of(scope), unit=w.unit_of(scope), owner=w.member_of(scope), **values
    )
    order = ["identified", "assessed", "treating", "monitored"]
    for act in ["assess", "treat", "monitor"][: order.index(status)]:
        risk = case_services.transition_risk(actor=w.admin, risk=risk, act=act)
    return risk


def make_action(w: World, scope: str, status: str = "open") -> Action:
    action = action_services.create_action(
        actor=w.users["ciso"],
        unit=w.unit_of(scope),
        title="Enforce MFA on the sharing tool",
        due_on=timezone.localdate() + dt.timedelta(days=14),
    )
    doer = w.member_of(scope)
    if status in {"in_progress", "submitted"}:
        action = action_services.transition_action(actor=doer, action=action, act="start")
    if status == "submitted":
        action = action_services.transition_action(actor=doer, action=action, act="submit")
    return action


def make_directive(w: World, scope: str, *, issued: bool) -> Directive:
    directive = action_services.draft_directive(
        actor=w.users["ciso"],
        title="Patch the VPN",
        body="Apply the vendor fix.",
        deadline=timezone.localdate() + dt.timedelta(days=30),
        units=[w.unit_of(scope)],
    )
    if issued:
        directive = action_services.issue_directive(actor=w.users["ciso"], directive=directive)
    return directive


def make_meeting(w: World, status: str = "scheduled") -> Meeting:
    # What happens at a meeting happens once it has begun: a quorate or held one began a
    # few minutes ago; the others are three days ahead.
    ahead = dt.timedelta(minutes=-10) if status in {"quorate", "held"} else dt.timedelta(days=3)
    starts_at = timezone.now() + ahead
    meeting = Meeting.objects.create(
        committee=w.committee,
        title="Risk Compliance Committee — matrix",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
    )
    secretary = w.users["secretary"]
    if status == "scheduled":
        return meeting
    meeting = committee_services.publish_agenda(actor=secretary, meeting=meeting)
    if status in {"quorate", "held"}:
        for code in ("chair", "ciso", "cqo"):
            committee_services.record_attendance(
                actor=secretary,
                meeting=meeting,
                person=w.users[code],
                status=Attendance.Status.PRESENT,
            )
    if status == "held":
        meeting = committee_services.hold_meeting(actor=secretary, meeting=meeting)
    return meeting


def make_item(w: World, meeting: Meeting, scope: str = "none") -> AgendaItem:
    return committee_services.add_agenda_item(
        actor=w.users["secretary"],
        meeting=meeting,
        title="SOC budget",
        unit=w.unit_of(scope) if scope != "none" else None,
    )


def make_minutes(w: World, *, approved: bool = False) -> tuple[Meeting, Minutes]:
    meeting = make_meeting(w, "held")
    minutes = committee_services.draft_minutes(
        actor=w.users["secretary"], meeting=meeting, body="Draft minutes."
    )
    if approved:
        minutes = committee_services.approve_minutes(
            actor=w.users["chair"], meeting=meeting, expected_version=minutes_etag(minutes)
        )
    return meeting, minutes


def make_notification(w: World) -> Notification:
    return Notification.objects.create(
        recipient=w.users["member"],
        action=make_action(w, "own"),
        stage="reminder",
        message="Due in 3 days.",
    )


def make_feed(w: World) -> CalendarFeed:
    feed, _token = committee_services.create_calendar_feed(actor=w.users["member"])
    return feed


def make_project(w: World, scope: str, phase: str = "planning") -> Project:
    """A project without personal data (no review stands in its way), moved to `phase`."""
    today = timezone.localdate()
    member = w.member_of(scope)
    project = quality_services.register_project(
        actor=member,
        unit=w.unit_of(scope),
        system=make_system(w, scope),
        name="Console rebuild",
        planned_budget=Decimal("100000"),
        planned_start=today,
        planned_finish=today + dt.timedelta(days=90),
    )
    while project.phase != phase:
        project = quality_services.advance_phase(actor=member, project=project)
    return project


def project_in(phase: str) -> Callable[[World, str], Project]:
    return lambda w, scope: make_project(w, scope, phase)


def reported_project(w: World, scope: str) -> QualityReport:
    """A project with this month's report, the latest, so its unit may correct it."""
    project = make_project(w, scope)
    return quality_services.submit_report(
        actor=w.member_of(scope),
        project=project,
        period=timezone.localdate(),
        planned_value=Decimal("10000"),
        earned_value=Decimal("10000"),
        actual_cost=Decimal("10000"),
        percent_complete=10,
    )


def report_url(report: QualityReport) -> str:
    return f"{API}/projects/{report.project_id}/reports/{report.period:%Y-%m}/"


def report_get(w: World, scope: str) -> Req:
    report = reported_project(w, scope)
    return Req(report_url(report), snapshot=row_of(report))


def report_put(w: World, scope: str) -> Req:
    report = reported_project(w, scope)
    body = {**REPORT_BODY, "earned_value": "9000", "reason": "EV was mistyped."}
    del body["period"]
    return Req(report_url(report), body, {"If-Match": etag_of(report)}, row_of(report))


def spi_threshold(w: World, scope: str) -> Threshold:
    # A transactional test before this one may have emptied the migration's rows.
    threshold, _created = Threshold.objects.get_or_create(
        indicator="spi", defaults={"green": Decimal("0.95"), "red": Decimal("0.85")}
    )
    return threshold


def threshold_put(w: World, scope: str) -> Req:
    threshold = spi_threshold(w, scope)
    body = {"green": "0.9", "red": "0.8"}
    url = f"{API}/quality-thresholds/spi/"
    return Req(url, body, {"If-Match": etag_of(threshold)}, row_of(threshold))


# --- Request builders -----------------------------------------------------------------------

API = "/api/v1"


def get(url: str) -> Setup:
    return lambda w, scope: Req(API + url)


def detail(
    prefix: str, make: Callable[[World, str], Model], suffix: str = "", *, key: str = "pk"
) -> Setup:
    """A record's URL by its lookup field."""

    def build(w: World, scope: str) -> Req:
        obj = make(w, scope)
        return Req(f"{API}/{prefix}/{getattr(obj, key)}/{suffix}", snapshot=row_of(obj))

    return build


def act(
    prefix: str,
    make: Callable[[World, str], Model],
    suffix: str,
    body: Any = None,
    *,
    etag: Callable[[Any], str] | None = None,
    idempotency: bool = False,
    extra: Callable[[], Any] | None = None,
) -> Setup:
    """A write on one object: URL with its pk, a minimal valid body, If-Match / Idempotency-Key."""

    def build(w: World, scope: str) -> Req:
        obj = make(w, scope)
        headers = {}
        if etag is not None:
            headers["If-Match"] = etag(obj)
        if idempotency:
            headers["Idempotency-Key"] = f"matrix-{prefix}-{suffix}-{w.next()}"
        snap = row_of(obj) if extra is None else both(row_of(obj), extra)
        url = f"{API}/{prefix}/{obj.pk}/{suffix}"
        return Req(url, body if body is not None else {}, headers, snap)

    return build


def create(url: str, body: Callable[[World, str], dict[str, Any]], *models: type[Model]) -> Setup:
    return lambda w, scope: Req(API + url, body(w, scope), {}, count_of(*models))


def meeting_act(
    suffix: str,
    status: str,
    body: Callable[[World], Any] | None = None,
    extra: Callable[[], Any] | None = None,
) -> Setup:
    def build(w: World, scope: str) -> Req:
        meeting = make_meeting(w, status)
        snap = row_of(meeting) if extra is None else both(row_of(meeting), extra)
        data = body(w) if body is not None else {}
        return Req(f"{API}/meetings/{meeting.pk}/{suffix}", data, {}, snap)

    return build


def item_act(suffix: str, status: str, body: Any) -> Setup:
    def build(w: World, scope: str) -> Req:
        meeting = make_meeting(w, status)
        item = make_item(w, meeting)
        url = f"{API}/meetings/{meeting.pk}/agenda/{item.pk}/{suffix}"
        return Req(url, body, {}, both(row_of(meeting), row_of(item)))

    return build


def audit_event(w: World, scope: str) -> AuditEvent:
    make_system(w, scope)
    event = AuditEvent.objects.order_by("-pk").first()
    assert event is not None
    return event


def minutes_of(w: World, approved: bool) -> tuple[str, Any, dict[str, str], Callable[[], Any]]:
    meeting, minutes = make_minutes(w, approved=approved)
    return f"{API}/meetings/{meeting.pk}/minutes/", minutes, {}, row_of(minutes)


def minutes_get(w: World, scope: str) -> Req:
    url, _m, _h, snap = minutes_of(w, approved=False)
    return Req(url, snapshot=snap)


def minutes_put(w: World, scope: str) -> Req:
    url, minutes, _h, snap = minutes_of(w, approved=False)
    return Req(url, {"body": "Redrafted."}, {"If-Match": minutes_etag(minutes)}, snap)


def minutes_approve(w: World, scope: str) -> Req:
    url, minutes, _h, snap = minutes_of(w, approved=False)
    return Req(url + "approve/", None, {"If-Match": minutes_etag(minutes)}, snap)


def minutes_correct(w: World, scope: str) -> Req:
    url, _minutes, _h, snap = minutes_of(w, approved=True)
    return Req(url + "corrections/", {"text": "Typo."}, {}, both(snap, count_of(Minutes)))


def reorder(w: World, scope: str) -> Req:
    meeting = make_meeting(w)
    first, second = make_item(w, meeting), make_item(w, meeting)
    url = f"{API}/meetings/{meeting.pk}/agenda/reorder/"
    snap = lambda: list(  # noqa: E731
        AgendaItem.objects.filter(meeting=meeting)
        .order_by("position")
        .values_list("pk", "position")
    )
    return Req(url, {"order": [second.pk, first.pk]}, {}, snap)


def rollout(w: World, scope: str) -> Req:
    make_system(w, scope, internet_facing=True)
    incident = make_incident(w, scope)
    measure = make_measure(w, incident)
    body = {"measure": measure.pk, "deadline": future()}
    headers = {"Idempotency-Key": f"matrix-rollout-{w.next()}"}
    return Req(
        f"{API}/incidents/{incident.pk}/rollout/",
        body,
        headers,
        both(row_of(incident), count_of(Directive, Action)),
    )


def system_body(w: World, scope: str) -> dict[str, Any]:
    return {"code": f"new-{w.next()}", "name": "New system", "unit": w.unit_of(scope).code}


def incident_body(w: World, scope: str) -> dict[str, Any]:
    return {
        "title": "Phishing",
        "description": "A mail with a fake login page.",
        "category": Incident.Category.UNAUTHORIZED_ACCESS,
        "severity": "medium",
        "unit": w.unit_of(scope).code,
        "detected_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
    }


def risk_body(w: World, scope: str) -> dict[str, Any]:
    load_nist_matrix()
    return {
        "title": "Shadow IT",
        "unit": w.unit_of(scope).code,
        "owner": w.member_of(scope).username,
        "likelihood": 2,
        "impact": 2,
    }


def action_body(w: World, scope: str) -> dict[str, Any]:
    return {"title": "Rotate keys", "unit": w.unit_of(scope).code, "due_on": future()}


def directive_body(w: World, scope: str) -> dict[str, Any]:
    return {
        "title": "Patch the VPN",
        "body": "Apply the vendor fix.",
        "deadline": future(),
        "units": [w.unit_of(scope).code],
    }


def project_body(w: World, scope: str) -> dict[str, Any]:
    return {
        "name": "New project",
        "unit": w.unit_of(scope).code,
        "system": make_system(w, scope).code,
        "planned_budget": "100000",
        "planned_start": timezone.localdate().isoformat(),
        "planned_finish": future(90),
    }


REPORT_BODY = {
    "period": timezone.localdate().strftime("%Y-%m"),
    "planned_value": "10000",
    "earned_value": "10000",
    "actual_cost": "10000",
    "percent_complete": 10,
}
REVIEW_BODY = {
    "checklist": {
        "personal_data_inventory": "yes",
        "fail_safe_design": "yes",
        "transaction_uniqueness": "yes",
        "access_control": "yes",
        "test_plan": "yes",
        "release_criteria": "yes",
    },
    "verdict": "passed",
    "summary": "The plan is sound.",
}


def incident_in(status: str) -> Callable[[World, str], Incident]:
    return lambda w, scope: make_incident(w, scope, status)


def risk_in(status: str, **fields: Any) -> Callable[[World, str], Risk]:
    return lambda w, scope: make_risk(w, scope, status, **fields)


def action_in(status: str) -> Callable[[World, str], Action]:
    return lambda w, scope: make_action(w, scope, status)


def meeting_in(status: str) -> Callable[[World, str], Meeting]:
    return lambda w, scope: make_meeting(w, status)


def committee_of(w: World, scope: str) -> Committee:
    return w.committee


def feed_of(w: World, scope: str) -> CalendarFeed:
    return make_feed(w)


def notification_of(w: World, scope: str) -> Notification:
    return make_notification(w)


def office_of(w: World, scope: str) -> Office:
    office = Office.objects.get(code="CISO")
    return office


def unit_of(w: World, scope: str) -> BusinessUnit:
    return w.unit_of(scope)


# --- The matrix ---------------------------------------------------------------------------

UNIT_SCOPES = ("own", "other")
CASE_STEERING = {"unit", "ciso", "chair", "admin"}  # security-domain cases: unit, CISO, chair
SECURITY_OFFICE = {"ciso", "chair"}
ALL = set(SIGNED_IN)

ROWS: list[Row] = [
    # who I am, and the API root
    Row("me", "GET", "none", expect("none", ALL), get("/me/")),
    Row("api-root", "GET", "none", expect("none", ALL), get("/")),
    # the directory: open to everyone signed in
    Row("business-unit-list", "GET", "none", expect("none", ALL), get("/business-units/")),
    *[
        Row(
            "business-unit-detail",
            "GET",
            s,
            expect(s, ALL, sees=ALL),
            detail("business-units", unit_of),
        )
        for s in UNIT_SCOPES
    ],
    Row("office-list", "GET", "none", expect("none", ALL), get("/offices/")),
    Row("office-detail", "GET", "none", expect("none", ALL), detail("offices", office_of)),
    # the audit trail: auditors, chair, CISO, CQO (a list others read is empty)
    Row("audit-event-list", "GET", "none", expect("none", ALL), get("/audit-events/")),
    Row(
        "audit-event-detail",
        "GET",
        "none",
        expect("none", AUDIT_READERS, sees=AUDIT_READERS),
        detail("audit-events", audit_event),
    ),
    # systems
    Row("system-list", "GET", "none", expect("none", ALL), get("/systems/")),
    Row(
        "system-match",
        "POST",
        "none",
        expect("none", ALL),
        lambda w, s: Req(API + "/systems/match/", {"criteria": {"internet_facing": True}}),
    ),
    *[
        Row(
            "system-list",
            "POST",
            s,
            expect(s, {"unit", "admin"}, sees=ALL),
            create("/systems/", system_body, System),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "system-detail",
            "GET",
            s,
            expect(s, unit_roles(s) | OVERSIGHT),
            detail("systems", make_system),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "system-detail",
            "PATCH",
            s,
            expect(s, {"unit", "admin"}),
            act("systems", make_system, "", {"name": "Renamed"}, etag=etag_of),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "system-suspend",
            "POST",
            s,
            expect(s, SECURITY_OFFICE),
            act(
                "systems",
                make_system,
                "suspend/",
                {"reason": "Exposed console"},
                idempotency=True,
                extra=count_of(SuspensionOrder),
            ),
        )
        for s in UNIT_SCOPES
    ],
    # suspension orders
    Row("suspension-list", "GET", "none", expect("none", ALL), get("/suspensions/")),
    *[
        Row(
            "suspension-detail",
            "GET",
            s,
            expect(s, unit_roles(s) | OVERSIGHT),
            detail("suspensions", make_order),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "suspension-lift",
            "POST",
            s,
            expect(s, SECURITY_OFFICE),
            act("suspensions", make_order, "lift/", {"reason": "Fixed"}, idempotency=True),
        )
        for s in UNIT_SCOPES
    ],
    # incidents
    Row("incident-list", "GET", "none", expect("none", ALL), get("/incidents/")),
    *[
        Row(
            "incident-list",
            "POST",
            s,
            expect(s, {"unit", "admin"}, sees=ALL),
            create("/incidents/", incident_body, Incident),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "incident-detail",
            "GET",
            s,
            expect(s, unit_roles(s) | OVERSIGHT),
            detail("incidents", incident_in("reported")),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "incident-detail",
            "PATCH",
            s,
            expect(s, CASE_STEERING),
            act("incidents", incident_in("reported"), "", {"title": "Renamed"}, etag=etag_of),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            f"incident-{verb}",
            "POST",
            s,
            expect(s, CASE_STEERING),
            act("incidents", incident_in(state), f"{verb}/", {"note": "Next step."}),
        )
        for verb, state in [
            ("triage", "reported"),
            ("investigate", "triaged"),
            ("contain", "investigating"),
            ("resolve", "contained"),
            ("close", "resolved"),
            ("reopen", "closed"),
        ]
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "incident-severity",
            "POST",
            s,
            expect(s, CASE_STEERING),
            act(
                "incidents",
                incident_in("reported"),
                "severity/",
                {"severity": "low", "reason": "Contained quickly"},
            ),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            f"incident-{sub}",
            "GET",
            s,
            expect(s, unit_roles(s) | OVERSIGHT),
            detail("incidents", incident_in("reported"), f"{sub}/"),
        )
        for sub in ("timeline", "measures")
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "incident-timeline",
            "POST",
            s,
            expect(s, CASE_STEERING),
            act(
                "incidents",
                incident_in("reported"),
                "timeline/",
                {"text": "Called the vendor."},
                extra=count_of(TimelineEntry),
            ),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "incident-measures",
            "POST",
            s,
            expect(s, CASE_STEERING),
            act(
                "incidents",
                incident_in("reported"),
                "measures/",
                {"description": "Enforce MFA", "criteria": {"internet_facing": True}},
                extra=count_of(RecurrenceMeasure),
            ),
        )
        for s in UNIT_SCOPES
    ],
    *[Row("incident-rollout", "POST", s, expect(s, SECURITY_OFFICE), rollout) for s in UNIT_SCOPES],
    # risks
    Row("risk-list", "GET", "none", expect("none", ALL), get("/risks/")),
    Row("risk-heatmap", "GET", "none", expect("none", ALL), get("/risks/heatmap/")),
    *[
        Row(
            "risk-list",
            "POST",
            s,
            expect(s, {"unit", "admin"}, sees=ALL),
            create("/risks/", risk_body, Risk),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "risk-detail",
            "GET",
            s,
            expect(s, unit_roles(s) | OVERSIGHT),
            detail("risks", risk_in("identified")),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "risk-detail",
            "PATCH",
            s,
            expect(s, CASE_STEERING),
            act("risks", risk_in("identified"), "", {"title": "Renamed"}, etag=etag_of),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            f"risk-{verb}",
            "POST",
            s,
            expect(s, CASE_STEERING),
            act("risks", risk_in(state, likelihood=1, impact=2), f"{verb}/"),
        )
        for verb, state in [
            ("assess", "identified"),
            ("treat", "assessed"),
            ("monitor", "treating"),
            ("retire", "monitored"),
        ]
        for s in UNIT_SCOPES
    ],
    *[
        # retiring a risk above appetite is the owning CxO's call, or the chair's
        Row(
            "risk-retire",
            "POST",
            f"{s}-above-appetite",
            expect(s, SECURITY_OFFICE),
            lambda w, scope: act("risks", risk_in("monitored"), "retire/")(w, scope.split("-")[0]),
        )
        for s in UNIT_SCOPES
    ],
    # actions
    Row("action-list", "GET", "none", expect("none", ALL), get("/actions/")),
    *[
        Row(
            "action-list",
            "POST",
            s,
            expect(s, {"unit", "ciso", "chair"}, sees=ALL),
            create("/actions/", action_body, Action),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            f"action-{sub}",
            "GET",
            s,
            expect(s, unit_roles(s) | OVERSIGHT),
            detail("actions", action_in("open"), suffix),
        )
        for sub, suffix in [("detail", ""), ("updates", "updates/")]
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            name,
            "POST",
            s,
            expect(s, allowed),
            act("actions", action_in(state), f"{verb}/", body, etag=action_services.etag),
        )
        for name, verb, state, allowed, body in [
            ("action-start", "start", "open", {"unit"}, {}),
            ("action-submit", "submit", "in_progress", {"unit"}, {}),
            ("action-verify", "verify", "submitted", SECURITY_OFFICE, {}),
            ("action-return-", "return", "submitted", SECURITY_OFFICE, {"note": "No evidence."}),
            ("action-cancel", "cancel", "open", SECURITY_OFFICE, {"note": "Superseded."}),
            (
                "action-replan",
                "replan",
                "open",
                SECURITY_OFFICE,
                {"reason": "Vendor late", "due_on": future(60)},
            ),
            (
                "action-updates",
                "updates",
                "in_progress",
                {"unit"},
                {"note": "Half done", "percent_done": 50},
            ),
        ]
        for s in UNIT_SCOPES
    ],
    # only the owning unit's head assigns its actions to its people
    *[
        Row(
            "action-assign",
            "POST",
            s,
            expect(s, unit_roles(s) & {"head"}),
            lambda w, scope: act(
                "actions",
                action_in("open"),
                "assign/",
                {"assignee": w.member_of(scope).username},
                etag=action_services.etag,
            )(w, scope),
        )
        for s in UNIT_SCOPES
    ],
    # directives (security: the CISO's, any: the chair's)
    Row("directive-list", "GET", "none", expect("none", ALL), get("/directives/")),
    *[
        Row(
            "directive-list",
            "POST",
            s,
            expect(s, SECURITY_OFFICE, sees=ALL),
            create("/directives/", directive_body, Directive),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "directive-detail",
            "GET",
            s,
            expect(s, unit_roles(s) | OVERSIGHT),
            detail("directives", lambda w, scope: make_directive(w, scope, issued=True)),
        )
        for s in UNIT_SCOPES
    ],
    *[
        # a draft has tasked nobody yet: only oversight sees it
        Row(
            "directive-issue",
            "POST",
            s,
            expect(s, SECURITY_OFFICE, sees=OVERSIGHT),
            act(
                "directives",
                lambda w, scope: make_directive(w, scope, issued=False),
                "issue/",
                idempotency=True,
                extra=count_of(Action),
            ),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "directive-withdraw",
            "POST",
            s,
            expect(s, SECURITY_OFFICE),
            act(
                "directives",
                lambda w, scope: make_directive(w, scope, issued=True),
                "withdraw/",
                {"reason": "Superseded."},
            ),
        )
        for s in UNIT_SCOPES
    ],
    # notifications: one person's own (bu_member's)
    Row("notification-list", "GET", "none", expect("none", ALL), get("/notifications/")),
    Row(
        "notification-detail",
        "GET",
        "none",
        expect("none", {"member"}, sees={"member"}),
        detail("notifications", notification_of),
    ),
    Row(
        "notification-read",
        "POST",
        "none",
        expect("none", {"member"}, sees={"member"}),
        act("notifications", notification_of, "read/"),
    ),
    # calendar feeds: one person's own (bu_member's)
    Row("calendar-feed-token-list", "GET", "none", expect("none", ALL), get("/calendar-feeds/")),
    Row(
        "calendar-feed-token-list",
        "POST",
        "none",
        expect("none", ALL),
        lambda w, s: Req(API + "/calendar-feeds/", {}, {}, count_of(CalendarFeed)),
    ),
    Row(
        "calendar-feed-token-detail",
        "GET",
        "none",
        expect("none", {"member"}, sees={"member"}),
        detail("calendar-feeds", feed_of),
    ),
    Row(
        "calendar-feed-token-revoke",
        "POST",
        "none",
        expect("none", {"member"}, sees={"member"}),
        act("calendar-feeds", feed_of, "revoke/"),
    ),
    # committees
    Row("committee-list", "GET", "none", expect("none", ALL), get("/committees/")),
    Row("committee-detail", "GET", "none", expect("none", ALL), detail("committees", committee_of)),
    Row(
        "committee-exceptions",
        "POST",
        "none",
        expect("none", SECRETARIAT),
        act(
            "committees",
            committee_of,
            "exceptions/",
            {"occurrence_date": "2027-01-12", "kind": "skip", "reason": "Offsite"},
            extra=count_of(CadenceException),
        ),
    ),
    # meetings: anyone signed in sees that they exist; the secretariat runs them
    Row("meeting-list", "GET", "none", expect("none", ALL), get("/meetings/")),
    Row(
        "meeting-detail",
        "GET",
        "none",
        expect("none", ALL),
        detail("meetings", meeting_in("scheduled")),
    ),
    Row(
        "meeting-ical",
        "GET",
        "none",
        expect("none", ALL),
        detail("meetings", meeting_in("published"), "ical/"),
    ),
    Row(
        "meeting-agenda",
        "GET",
        "none",
        expect("none", ALL),
        detail("meetings", meeting_in("published"), "agenda/"),
    ),
    Row(
        "meeting-decisions",
        "GET",
        "none",
        expect("none", ALL),
        detail("meetings", meeting_in("quorate"), "decisions/"),
    ),
    Row(
        "meeting-attendance",
        "GET",
        "none",
        expect("none", OVERSIGHT, sees=OVERSIGHT),
        detail("meetings", meeting_in("published"), "attendance/"),
    ),
    Row("meeting-minutes", "GET", "none", expect("none", OVERSIGHT, sees=OVERSIGHT), minutes_get),
    Row(
        "meeting-publish",
        "POST",
        "none",
        expect("none", SECRETARIAT),
        meeting_act("publish/", "scheduled"),
    ),
    Row(
        "meeting-hold", "POST", "none", expect("none", SECRETARIAT), meeting_act("hold/", "quorate")
    ),
    Row(
        "meeting-cancel",
        "POST",
        "none",
        expect("none", SECRETARIAT),
        meeting_act("cancel/", "scheduled", lambda w: {"reason": "No quorum expected"}),
    ),
    Row(
        "meeting-reschedule",
        "POST",
        "none",
        expect("none", SECRETARIAT),
        meeting_act(
            "reschedule/",
            "scheduled",
            lambda w: {
                "starts_at": (timezone.now() + dt.timedelta(days=5)).isoformat(),
                "reason": "Clash",
            },
        ),
    ),
    Row(
        "meeting-agenda",
        "POST",
        "none",
        expect("none", SECRETARIAT),
        meeting_act("agenda/", "scheduled", lambda w: {"title": "Budget"}, count_of(AgendaItem)),
    ),
    Row(
        "meeting-assemble",
        "POST",
        "none",
        expect("none", SECRETARIAT),
        meeting_act("agenda/assemble/", "scheduled", None, count_of(AgendaItem)),
    ),
    Row("meeting-reorder", "POST", "none", expect("none", SECRETARIAT), reorder),
    # an item with no unit is invisible to a unit's people: 404 for them (deny by default)
    Row(
        "meeting-remove-item",
        "POST",
        "none",
        expect("none", SECRETARIAT, member=HIDDEN, head=HIDDEN, other=HIDDEN, reviewer=HIDDEN),
        item_act("remove/", "scheduled", {"reason": "Duplicate"}),
    ),
    Row(
        "meeting-discussed",
        "POST",
        "none",
        expect("none", SECRETARIAT, member=HIDDEN, head=HIDDEN, other=HIDDEN, reviewer=HIDDEN),
        item_act("discussed/", "quorate", {}),
    ),
    Row(
        "meeting-attendance",
        "POST",
        "none",
        expect("none", SECRETARIAT),
        meeting_act(
            "attendance/",
            "published",
            # Ahead of the meeting only apologies are recorded; who came, once it has begun.
            lambda w: {"person": "ciso", "status": "absent"},
            count_of(Attendance),
        ),
    ),
    Row(
        "meeting-add-attendee",
        "POST",
        "none",
        expect("none", SECRETARIAT),
        meeting_act(
            "attendance/add/",
            "published",
            lambda w: {"person": "auditor", "kind": "observer", "reason": "Audit sample"},
            count_of(Attendance),
        ),
    ),
    Row(
        # decisions are the chair's; the secretariat records them on the chair's behalf
        "meeting-decisions",
        "POST",
        "none",
        expect("none", {"chair", "secretary", "admin"}),
        meeting_act(
            "decisions/",
            "quorate",
            lambda w: {"outcome": "noted", "text": "Noted the SOC report."},
            count_of(Decision),
        ),
    ),
    Row("meeting-minutes", "PUT", "none", expect("none", SECRETARIAT), minutes_put),
    Row(
        "meeting-approve-minutes",
        "POST",
        "none",
        expect("none", {"chair"}),
        minutes_approve,
    ),
    Row(
        "meeting-correct-minutes",
        "POST",
        "none",
        expect("none", SECRETARIAT),
        minutes_correct,
    ),
]


# Quality control: a project is seen by its unit, oversight and the quality reviewers.
PROJECT_SEERS = frozenset(OVERSIGHT | {"reviewer"})
GATE = {"cqo", "chair"}
ROWS += [
    Row("project-list", "GET", "none", expect("none", ALL), get("/projects/")),
    *[
        Row(
            "project-list",
            "POST",
            s,
            expect(s, {"unit", "admin"}, sees=ALL),
            create("/projects/", project_body, Project),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            name,
            "GET",
            s,
            expect(s, unit_roles(s) | PROJECT_SEERS, sees=unit_roles(s) | PROJECT_SEERS),
            detail("projects", make_project, suffix),
        )
        for s in UNIT_SCOPES
        for name, suffix in (
            ("project-detail", ""),
            ("project-reports", "reports/"),
            ("project-reviews", "reviews/"),
            ("project-release-decisions", "release-decisions/"),
        )
    ],
    *[
        Row(
            "project-advance",
            "POST",
            s,
            expect(s, {"unit"}, sees=unit_roles(s) | PROJECT_SEERS),
            act("projects", make_project, "advance/", etag=etag_of),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "project-reports",
            "POST",
            s,
            expect(s, {"unit"}, sees=unit_roles(s) | PROJECT_SEERS),
            act("projects", make_project, "reports/", REPORT_BODY, extra=count_of(QualityReport)),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "project-report",
            "GET",
            s,
            expect(s, unit_roles(s) | PROJECT_SEERS, sees=unit_roles(s) | PROJECT_SEERS),
            report_get,
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "project-report",
            "PUT",
            s,
            expect(s, {"unit"}, sees=unit_roles(s) | PROJECT_SEERS),
            report_put,
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "project-reviews",
            "POST",
            s,
            expect(s, {"reviewer"}, sees=unit_roles(s) | PROJECT_SEERS),
            act("projects", make_project, "reviews/", REVIEW_BODY, extra=count_of(Review)),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "project-release",
            "POST",
            s,
            expect(s, GATE, sees=unit_roles(s) | PROJECT_SEERS),
            act(
                "projects",
                project_in("test"),
                "release/",
                {"outcome": "approved", "reason": "Ready.", "override_reason": "Not yet rated."},
                idempotency=True,
                extra=count_of(ReleaseDecision),
            ),
        )
        for s in UNIT_SCOPES
    ],
    Row("quality-threshold-list", "GET", "none", expect("none", ALL), get("/quality-thresholds/")),
    Row(
        "quality-threshold-detail",
        "GET",
        "none",
        expect("none", ALL),
        detail("quality-thresholds", spi_threshold, key="indicator"),
    ),
    Row(
        "quality-threshold-detail",
        "PUT",
        "none",
        expect("none", GATE),
        threshold_put,
    ),
]


# Written resolutions: the committee's business, as its whole agenda is. The chair opens one; the
# voting seats vote (the matrix's committee seats the CFO too), each once.
VOTERS = frozenset({"chair", "ciso", "cqo", "cfo"})


def resolution_body(w: World, scope: str) -> dict[str, Any]:
    make_meeting(w)  # the meeting ahead whose minutes record the result
    deadline = timezone.now() + dt.timedelta(days=2)
    return {
        "committee": w.committee.slug,
        "title": "Take the sharing tool's public links down",
        "text": "Resolved: public links stay off until MFA is enforced.",
        "deadline": deadline.isoformat(),
    }


def make_resolution(w: World, scope: str) -> WrittenResolution:
    body = resolution_body(w, scope)
    return committee_services.open_resolution(
        actor=w.users["chair"],
        committee=w.committee,
        title=body["title"],
        text=body["text"],
        deadline=timezone.now() + dt.timedelta(days=2),
    )


def ballots_now() -> Any:
    return list(Ballot.objects.order_by("pk").values())


ROWS += [
    Row("resolution-list", "GET", "none", expect("none", ALL), get("/resolutions/")),
    Row(
        "resolution-list",
        "POST",
        "none",
        expect("none", {"chair"}),
        create("/resolutions/", resolution_body, WrittenResolution, Ballot),
    ),
    Row(
        "resolution-detail",
        "GET",
        "none",
        expect("none", OVERSIGHT, sees=OVERSIGHT),
        detail("resolutions", make_resolution),
    ),
    Row(
        "resolution-vote",
        "POST",
        "none",
        expect("none", VOTERS, sees=OVERSIGHT),
        act("resolutions", make_resolution, "vote/", {"choice": "for"}, extra=ballots_now),
    ),
]

# --- Software inventory and vulnerabilities ------------------------------------------------------

LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core"
ENTRY = {"components": [{"kind": "purl", "identifier": "pkg:pypi/django@4.2.1"}]}


def log4j_system(w: World, scope: str) -> System:
    """A system of the scope's unit that runs an affected log4j-core (entered by its unit)."""
    system = make_system(w, scope)
    inventory.add_components(
        actor=w.member_of(scope),
        system=system,
        entries=[inventory.Entry("purl", f"{LOG4J}@2.13.2")],
    )
    return system


def log4j_advisory(w: World) -> Advisory:
    relative = "osv/osvscanner_Maven_GHSA-3pxv-7cmr-fjr4.json"
    with sample(relative).open("rb") as stream:
        advisory_services.import_file(
            actor=w.users["ciso"], kind="osv", stream=stream, origin=relative
        )
    return Advisory.objects.get(source_id="GHSA-3pxv-7cmr-fjr4")


def make_finding(w: World, scope: str) -> Finding:
    log4j_advisory(w)
    return Finding.objects.get(system=log4j_system(w, scope))


def advisory_of(w: World, scope: str) -> Advisory:
    return log4j_advisory(w)


def components_req(method: str) -> Setup:
    def build(w: World, scope: str) -> Req:
        system = log4j_system(w, scope)
        headers = {"If-Match": inventory.inventory_etag(system)} if method == "PUT" else {}
        url = f"{API}/systems/{system.pk}/components/"
        return Req(url, ENTRY, headers, both(count_of(Component), current_of(system)))

    return build


def current_of(system: System) -> Callable[[], Any]:
    return lambda: list(
        Component.objects.current().filter(system=system).order_by("pk").values_list("pk")
    )


def component_delete(w: World, scope: str) -> Req:
    system = log4j_system(w, scope)
    component = Component.objects.get(system=system)
    url = f"{API}/systems/{system.pk}/components/{component.pk}/"
    return Req(url, None, {}, row_of(component))


def sbom_post(w: World, scope: str) -> Req:
    # The matrix sends JSON: past authorization, an upload without its file is a 400.
    system = make_system(w, scope)
    return Req(f"{API}/systems/{system.pk}/sbom/", {}, {}, count_of(SbomUpload, Component))


def identities_req(w: World, scope: str) -> Req:
    system = make_system(w, scope)
    body = {"kind": "hostname", "value": f"host-{w.next()}.example.com"}
    return Req(
        f"{API}/systems/{system.pk}/network-identities/", body, {}, count_of(NetworkIdentity)
    )


def identity_end(w: World, scope: str) -> Req:
    system = make_system(w, scope)
    identity = inventory.add_network_identity(
        actor=w.admin, system=system, kind="hostname", value=f"host-{w.next()}.example.com"
    )
    url = f"{API}/systems/{system.pk}/network-identities/{identity.pk}/end/"
    return Req(url, {}, {}, row_of(identity))


def advisory_import(w: World, scope: str) -> Req:
    # JSON again: the CISO's office gets past authorization to a 400 (no file).
    return Req(f"{API}/advisories/import/", {"kind": "osv"}, {}, count_of(Advisory, FeedImport))


def exposure_get(w: World, scope: str) -> Req:
    log4j_system(w, "own")
    query = urlencode({"package": LOG4J, "range": ">=2.0|<2.17.1"})
    return Req(f"{API}/exposure/?{query}")


def exposure_directive(w: World, scope: str) -> Req:
    log4j_system(w, "own")
    log4j_system(w, "other")
    body = {
        "package": LOG4J,
        "range": ">=2.0|<2.17.1",
        "title": "Upgrade log4j-core",
        "body": "Upgrade to 2.17.1 or later.",
        "deadline": future(7),
    }
    headers = {"Idempotency-Key": f"matrix-exposure-{w.next()}"}
    return Req(f"{API}/exposure/directive/", body, headers, count_of(Directive, Action))


def deadline_of(w: World, scope: str) -> RemediationDeadline:
    # A transactional test before this one may have emptied the migration's rows.
    deadline, _created = RemediationDeadline.objects.get_or_create(
        priority="p1", defaults={"days": 7}
    )
    return deadline


def deadline_patch(w: World, scope: str) -> Req:
    deadline = deadline_of(w, scope)
    url = f"{API}/remediation-deadlines/p1/"
    return Req(url, {"days": 5}, {"If-Match": etag_of(deadline)}, row_of(deadline))


CISO_ONLY = {"ciso"}


def sbom_expected(scope: str) -> dict[str, str]:
    """Those who keep the system's inventory get past authorization to the missing file."""
    expected = expect(scope)
    expected.update({role: INVALID for role in unit_roles(scope) | {"admin"}})
    return expected


ROWS += [
    # a system's inventory: read with the system, kept by its unit (and admins)
    *[
        Row(
            "system-component-list",
            "GET",
            s,
            expect(s, unit_roles(s) | OVERSIGHT),
            lambda w, scope: Req(f"{API}/systems/{log4j_system(w, scope).pk}/components/"),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row("system-component-list", m, s, expect(s, {"unit", "admin"}), components_req(m))
        for s in UNIT_SCOPES
        for m in ("POST", "PUT")
    ],
    *[
        Row("system-component-detail", "DELETE", s, expect(s, {"unit", "admin"}), component_delete)
        for s in UNIT_SCOPES
    ],
    *[Row("system-sbom-list", "POST", s, sbom_expected(s), sbom_post) for s in UNIT_SCOPES],
    *[
        Row(
            "system-network-identity-list",
            "GET",
            s,
            expect(s, unit_roles(s) | OVERSIGHT),
            lambda w, scope: Req(f"{API}/systems/{make_system(w, scope).pk}/network-identities/"),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "system-network-identity-list",
            "POST",
            s,
            expect(s, {"unit", "admin"}),
            identities_req,
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row("system-network-identity-end", "POST", s, expect(s, {"unit", "admin"}), identity_end)
        for s in UNIT_SCOPES
    ],
    # advisories: public knowledge; loaded by the CISO's office (and admins)
    Row("advisory-list", "GET", "none", expect("none", ALL), get("/advisories/")),
    Row(
        "advisory-detail",
        "GET",
        "none",
        expect("none", ALL),
        detail("advisories", advisory_of),
    ),
    Row(
        "advisory-import",
        "POST",
        "none",
        expect("none", ciso=INVALID, admin=INVALID),
        advisory_import,
    ),
    # findings: seen with their systems; set aside by the unit's security officer or the CISO's
    # office; a risk accepted by the CISO
    Row("finding-list", "GET", "none", expect("none", ALL), get("/findings/")),
    *[
        Row(
            "finding-detail",
            "GET",
            s,
            expect(s, unit_roles(s) | OVERSIGHT),
            detail("findings", make_finding),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "finding-false-positive",
            "POST",
            s,
            expect(s, CISO_ONLY),
            act(
                "findings",
                make_finding,
                "false-positive/",
                {"reason": "The vulnerable class is never loaded."},
                etag=etag_of,
            ),
        )
        for s in UNIT_SCOPES
    ],
    *[
        # An open finding is not one to review: the CISO's office gets past authorization to
        # the 409.
        Row(
            "finding-confirm",
            "POST",
            s,
            expect(s, ciso=INVALID),
            act("findings", make_finding, "confirm/", etag=etag_of),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "finding-accept",
            "POST",
            s,
            expect(s, CISO_ONLY),
            act(
                "findings",
                make_finding,
                "accept/",
                {"until": future(30), "reason": "The vendor's fix ships next month."},
                etag=etag_of,
                idempotency=True,
            ),
        )
        for s in UNIT_SCOPES
    ],
    # the morning-of question: anyone of their own systems; a directive from it by the CISO or
    # the chair
    Row("exposure-list", "GET", "none", expect("none", ALL), exposure_get),
    Row(
        "exposure-directive",
        "POST",
        "none",
        expect("none", SECURITY_OFFICE),
        exposure_directive,
    ),
    # remediation deadlines: read by everyone, set by the CISO (and admins)
    Row(
        "remediation-deadline-list",
        "GET",
        "none",
        expect("none", ALL),
        get("/remediation-deadlines/"),
    ),
    Row(
        "remediation-deadline-detail",
        "GET",
        "none",
        expect("none", ALL),
        detail("remediation-deadlines", deadline_of, key="priority"),
    ),
    Row(
        "remediation-deadline-detail",
        "PATCH",
        "none",
        expect("none", {"ciso", "admin"}),
        deadline_patch,
    ),
]


# --- Scans and the attack surface --------------------------------------------------------------


def make_scan(w: World, scope: str, *, system: System | None = None, fmt: str = "trivy") -> Scan:
    """A scan imported for a system of the scope's unit by one of its members (or, for the
    attack surface, an nmap scan of the company's addresses by the CISO)."""
    n = w.next()
    return Scan.objects.create(
        format=fmt,
        file=f"scans/matrix-{n}.json",
        file_name=f"matrix-{n}.json",
        size=1,
        sha256=f"{n:064d}",
        system=system if system is not None else make_system(w, scope),
        state=Scan.State.DONE,
        uploaded_by=w.member_of(scope) if fmt == "trivy" else w.users["ciso"],
        uploaded_at=timezone.now(),
        imported_at=timezone.now(),
    )


def scan_of(w: World, scope: str) -> Scan:
    return make_scan(w, scope)


def make_asset(w: World, scope: str) -> DiscoveredAsset:
    """A discovered address, assigned to the scope's unit ("none": still new)."""
    n = w.next()
    scan = make_scan(w, scope, fmt="nmap")
    scan.system = None
    scan.save(update_fields=["system"])
    asset = DiscoveredAsset.objects.create(
        address=f"198.51.{n // 250}.{n % 250 + 1}",
        due_on=timezone.localdate() + dt.timedelta(days=14),
        state=DiscoveredAsset.State.NEW if scope == "none" else DiscoveredAsset.State.ASSIGNED,
        unit=None if scope == "none" else w.unit_of(scope),
        first_seen_at=timezone.now(),
        last_seen_at=timezone.now(),
        first_scan=scan,
        last_scan=scan,
    )
    ExposedService.objects.create(
        address=asset.address,
        protocol="tcp",
        port=3389,
        asset=asset,
        first_seen_at=timezone.now(),
        last_seen_at=timezone.now(),
        last_scan=scan,
    )
    return asset


def make_service(w: World, scope: str) -> ExposedService:
    n = w.next()
    system = make_system(w, scope, internet_facing=True)
    return ExposedService.objects.create(
        address=f"203.0.{n // 250}.{n % 250 + 1}",
        protocol="tcp",
        port=443,
        system=system,
        first_seen_at=timezone.now(),
        last_seen_at=timezone.now(),
        last_scan=make_scan(w, scope, system=system),
    )


def scan_post(w: World, scope: str) -> Req:
    # JSON, no file: past authorization, a 400 naming `file`.
    body = {} if scope == "none" else {"system": make_system(w, scope).pk}
    return Req(f"{API}/scans/", body, {}, count_of(Scan))


def asset_attach(w: World, scope: str) -> Req:
    asset = make_asset(w, scope)
    system = make_system(w, scope)
    return Req(
        f"{API}/discovered-assets/{asset.pk}/attach/",
        {"system": system.pk},
        {"If-Match": etag_of(asset)},
        row_of(asset),
    )


ASSET_SEES = {"unit"} | OVERSIGHT


def scan_upload_expected(scope: str) -> dict[str, str]:
    """Those who may upload for the system get past authorization to the missing file; a
    system named in the body that a person does not see is a 400 on the field (no system of
    theirs), as any reference in a body is; those who see it but may not upload get a 403."""
    expected = expect(scope, sees={"unit"} | OVERSIGHT)
    expected.update({role: INVALID for role, outcome in expected.items() if outcome == HIDDEN})
    expected.update({role: INVALID for role in unit_roles(scope) | {"ciso", "admin"}})
    return expected


ROWS += [
    Row("scan-list", "GET", "none", expect("none", ALL), get("/scans/")),
    Row("scan-coverage", "GET", "none", expect("none", ALL), get("/scans/coverage/")),
    *[
        Row("scan-detail", "GET", s, expect(s, unit_roles(s) | OVERSIGHT), detail("scans", scan_of))
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "scan-hosts",
            "GET",
            s,
            expect(s, unit_roles(s) | OVERSIGHT),
            detail("scans", scan_of, "hosts/"),
        )
        for s in UNIT_SCOPES
    ],
    # an upload: the system's unit (and admins, who keep any register entry) or the CISO's
    # office; a scan placed by identities: the CISO's office only
    *[
        Row(
            "scan-list",
            "POST",
            s,
            scan_upload_expected(s),
            scan_post,
        )
        for s in UNIT_SCOPES
    ],
    Row("scan-list", "POST", "none", expect("none", ciso=INVALID), scan_post),
    Row("discovered-asset-list", "GET", "none", expect("none", ALL), get("/discovered-assets/")),
    Row(
        "discovered-asset-detail",
        "GET",
        "none",
        expect("none", OVERSIGHT, sees=OVERSIGHT),
        detail("discovered-assets", make_asset),
    ),
    *[
        Row(
            "discovered-asset-detail",
            "GET",
            s,
            expect(s, ASSET_SEES, sees=ASSET_SEES),
            detail("discovered-assets", make_asset),
        )
        for s in UNIT_SCOPES
    ],
    *[
        Row(
            "discovered-asset-assign",
            "POST",
            s,
            expect(s, CISO_ONLY, sees=OVERSIGHT if s == "none" else ASSET_SEES),
            act("discovered-assets", make_asset, "assign/", {"unit": "PUBSEC"}, etag=etag_of),
        )
        for s in ("none", *UNIT_SCOPES)
    ],
    *[
        Row(
            "discovered-asset-dismiss",
            "POST",
            s,
            expect(s, CISO_ONLY, sees=OVERSIGHT if s == "none" else ASSET_SEES),
            act(
                "discovered-assets",
                make_asset,
                "dismiss/",
                {"reason": "not_ours", "note": "A customer's address, per the registry."},
                etag=etag_of,
            ),
        )
        for s in ("none", *UNIT_SCOPES)
    ],
    *[
        Row(
            "discovered-asset-attach",
            "POST",
            s,
            expect(s, {"unit", "admin"}, sees=ASSET_SEES),
            asset_attach,
        )
        for s in UNIT_SCOPES
    ],
    Row("exposed-service-list", "GET", "none", expect("none", ALL), get("/exposed-services/")),
    *[
        Row(
            "exposed-service-detail",
            "GET",
            s,
            expect(s, unit_roles(s) | OVERSIGHT),
            detail("exposed-services", make_service),
        )
        for s in UNIT_SCOPES
    ],
]

# Routes a role may not reach for a reason that is not authorization: none yet.
ROUTE_METHODS = {(row.name, row.method) for row in ROWS}


def cases() -> list[tuple[Row, str]]:
    return [(row, role) for row in ROWS for role in ROLES]


def add_seat(committee: Committee, office: Office) -> CommitteeMember:
    return CommitteeMember.objects.create(committee=committee, office=office)
