"""The authorization matrix of the pages: one row per page route + method + object scope (and a
variant where one route does several acts), mapping each role to the outcome the authority
rules ask for (docs/architecture.md, Authority), as matrix.py does for the API.

Outcome classes on pages: "sign-in" (a redirect to the sign-in page: every page but the
calendar feed, whose token is the credential, wants a person), "ok" (2xx, or a redirect
elsewhere: a form that worked goes back to its record), "denied" (403, with the refusal page),
"hidden" (404), "invalid" (400/409/412).

A view that does not restrict its methods answers any method; it gets a row for GET and one for
POST, the two a browser sends (it treats the others as GET). A read page answers a POST as it
answers a GET: the POST row proves that a POST does not slip past its sign-in and scoping.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from importlib import import_module
from typing import Any, cast
from urllib.parse import urlencode

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Membership
from actions import services as action_services
from actions.models import Action, ActionUpdate, Directive, Evidence
from audit.models import AuditEvent
from cases.matrix import load_nist_matrix
from cases.models import Incident, RecurrenceMeasure, Risk, TimelineEntry
from cases.services import SCORE_FIELDS
from committee import services as committee_services
from committee.models import (
    AgendaItem,
    Attendance,
    CalendarFeed,
    Decision,
    Meeting,
    Minutes,
    WrittenResolution,
)
from committee.services.minutes import etag as minutes_etag
from config.versioning import etag_of
from quality.models import Project, QualityReport, ReleaseDecision, Review, Threshold
from systems import inventory
from systems.models import Component, NetworkIdentity, SbomUpload, SuspensionOrder, System
from tests.authz.matrix import (
    AUDIT_READERS,
    CASE_STEERING,
    HIDDEN,
    INVALID,
    LOG4J,
    OK,
    OVERSIGHT,
    REVIEW_BODY,
    ROLES,
    SECRETARIAT,
    SECURITY_OFFICE,
    SIGNED_IN,
    UNIT_SCOPES,
    VOTERS,
    Req,
    World,
    ballots_now,
    both,
    count_of,
    expect,
    future,
    log4j_system,
    make_action,
    make_directive,
    make_finding,
    make_incident,
    make_item,
    make_measure,
    make_meeting,
    make_minutes,
    make_order,
    make_project,
    make_resolution,
    make_risk,
    make_system,
    reported_project,
    resolution_body,
    row_of,
    unit_roles,
)
from tests.vulnerabilities.samples import sample
from vulnerabilities.models import DiscoveredAsset, Finding, RemediationDeadline, Scan
from vulnerabilities.services import advisories as advisory_services
from vulnerabilities.services import scans as scan_services
from vulnerabilities.services import surface as surface_services

SIGN_IN = "sign-in"
ALL = set(SIGNED_IN)
PROJECT_SEERS = frozenset(OVERSIGHT | {"reviewer"})
GATE = {"cqo", "chair"}
# Whom a page offers a unit to act for: the members and heads of units (the quality reviewer
# belongs to Quality HQ), and an administrator where the product lets one act for any unit
# (registering systems and projects). The incident and risk forms offer a person's own units
# only: an administrator, in none, is refused there (the API lets one report for any unit).
WITH_UNITS = {"member", "head", "other", "reviewer", "admin"}
IN_UNITS = WITH_UNITS - {"admin"}

Setup = Callable[[World, str], Req]


@dataclass(frozen=True)
class PageRow:
    name: str  # the URL name with its namespace, e.g. "cases:incident"
    method: str
    scope: str
    expected: dict[str, str]
    setup: Setup
    variant: str = ""

    @property
    def id(self) -> str:
        return "-".join(p for p in (self.name, self.method, self.scope, self.variant) if p)

    @property
    def is_write(self) -> bool:
        return self.method not in {"GET", "HEAD", "OPTIONS"}


def page(
    scope: str,
    ok: frozenset[str] | set[str] = frozenset(),
    *,
    sees: frozenset[str] | set[str] | None = None,
    **override: str,
) -> dict[str, str]:
    """As the API's `expect`, but a signed-out reader is sent to sign in."""
    return {**expect(scope, ok, sees=sees, **override), "anonymous": SIGN_IN}


def own_units_form(scope: str, *, admin: bool) -> dict[str, str]:
    """A form that offers a person their own units: the unit's people succeed; a person of
    another unit (or of Quality HQ) posting for this one is told it is not on offer (400); the
    rest, in no unit, are refused (403). An administrator succeeds where `admin` says so."""
    expected = page(scope, unit_roles(scope) | ({"admin"} if admin else set()), sees=ALL)
    expected.update(dict.fromkeys(IN_UNITS - unit_roles(scope), INVALID))
    return expected


def seers(scope: str) -> set[str]:
    return set(unit_roles(scope) | OVERSIGHT)


# --- Requests ------------------------------------------------------------------------------


def at(
    name: str,
    make: Callable[[World, str], Any] | None = None,
    *,
    args: Callable[[Any], list[Any]] = lambda obj: [obj.pk],
    body: Callable[[World, str, Any], dict[str, Any]] | None = None,
    extra: Callable[[], Any] | None = None,
) -> Setup:
    """The page of `make`'s object (or of none), a form body, and what a refusal must leave."""

    def build(w: World, scope: str) -> Req:
        obj = make(w, scope) if make is not None else None
        url = reverse(name, args=args(obj) if obj is not None else [])
        data = body(w, scope, obj) if body is not None else {}
        snap: Callable[[], Any] = row_of(obj) if isinstance(obj, Model) else (lambda: None)
        if extra is not None:
            snap = both(snap, extra)
        return Req(url, data, {}, snap)

    return build


def read(
    name: str,
    scope: str,
    expected: dict[str, str],
    make: Callable[[World, str], Any] | None = None,
    **kw: Any,
) -> list[PageRow]:
    """A page any method reaches: a GET row, and a POST row that must fare no better."""
    return [PageRow(name, method, scope, expected, at(name, make, **kw)) for method in METHODS]


METHODS = ("GET", "POST")


def both_methods(
    name: str, scope: str, get: dict[str, str], post: dict[str, str], setup: Setup
) -> list[PageRow]:
    return [PageRow(name, "GET", scope, get, setup), PageRow(name, "POST", scope, post, setup)]


# --- Objects -------------------------------------------------------------------------------


def feed_and_token(w: World, scope: str) -> tuple[CalendarFeed, str]:
    feed, token = committee_services.create_calendar_feed(actor=w.users["member"])
    if scope == "revoked":
        committee_services.revoke_calendar_feed(actor=w.users["member"], feed=feed)
    return feed, token


def calendar(w: World, scope: str) -> Req:
    feed, token = feed_and_token(w, scope)
    return Req(reverse("calendar-feed", kwargs={"token": token}), {}, {}, row_of(feed))


def member_feed(w: World, scope: str) -> CalendarFeed:
    return feed_and_token(w, "none")[0]


def meeting_in(status: str) -> Callable[[World, str], Meeting]:
    return lambda w, scope: make_meeting(w, status)


def meeting_with_items(status: str, count: int = 1) -> Callable[[World, str], AgendaItem]:
    """The last of `count` items with no unit on a meeting in `status`."""

    def build(w: World, scope: str) -> AgendaItem:
        meeting = make_meeting(w, status)
        items = [make_item(w, meeting) for _ in range(count)]
        return items[-1]

    return build


def item_args(item: AgendaItem) -> list[int]:
    return [item.meeting_id, item.pk]


def held_minutes(w: World, scope: str) -> Minutes:
    return make_minutes(w)[1]


def minutes_args(minutes: Minutes) -> list[int]:
    return [minutes.meeting_id]


def incident_in(status: str) -> Callable[[World, str], Incident]:
    return lambda w, scope: make_incident(w, scope, status)


def measure_of(w: World, scope: str) -> RecurrenceMeasure:
    make_system(w, scope, internet_facing=True)  # a system the roll-out reaches
    return make_measure(w, make_incident(w, scope))


def risk_in(status: str) -> Callable[[World, str], Risk]:
    return lambda w, scope: make_risk(w, scope, status)


def action_in(status: str) -> Callable[[World, str], Action]:
    return lambda w, scope: make_action(w, scope, status)


def evidence_of(w: World, scope: str) -> Evidence:
    action = make_action(w, scope, "in_progress")
    update = action_services.add_update(
        actor=w.member_of(scope),
        action=action,
        note="Patched",
        files=[SimpleUploadedFile("notes.txt", b"Patched on Monday.\n", "text/plain")],
    )
    evidence = Evidence.objects.get(update=update)
    return evidence


def directive(issued: bool) -> Callable[[World, str], Directive]:
    return lambda w, scope: make_directive(w, scope, issued=issued)


def project_in(phase: str) -> Callable[[World, str], Project]:
    return lambda w, scope: make_project(w, scope, phase)


def report_args(report: QualityReport) -> list[Any]:
    return [report.project_id, f"{report.period:%Y-%m}"]


# --- Bodies --------------------------------------------------------------------------------


def incident_form(w: World, scope: str, _obj: Any) -> dict[str, Any]:
    detected = timezone.localtime() - dt.timedelta(hours=1)
    return {
        "unit": w.unit_of(scope).code,
        "title": "Phishing",
        "description": "A mail with a fake login page.",
        "category": Incident.Category.UNAUTHORIZED_ACCESS,
        "severity": "medium",
        "domain": "security",
        "detected_at": detected.strftime("%Y-%m-%dT%H:%M"),
    }


def risk_form(w: World, scope: str, _obj: Any) -> dict[str, Any]:
    load_nist_matrix()  # a transactional test before this one may have emptied the matrix
    return {
        "unit": w.unit_of(scope).code,
        "title": "Shadow IT",
        "domain": "security",
        "owner": w.member_of(scope).username,
        "likelihood": "2",
        "impact": "2",
        "treatment": "mitigate",
    }


def reassess_form(w: World, scope: str, risk: Risk) -> dict[str, Any]:
    """Reworded at the same scores: the risk is above appetite, and scoring it down is its
    CxO's or the chair's call (a row of its own would be needed for that)."""
    return {
        "title": "Stale accounts, reworded",
        **{field: str(getattr(risk, field)) for field in SCORE_FIELDS},
        "treatment": risk.treatment,
        "version": etag_of(risk),
    }


def system_form(w: World, scope: str, _obj: Any) -> dict[str, Any]:
    return {
        "unit": w.unit_of(scope).pk,
        "code": f"page-{w.next()}",
        "name": "Resident portal",
        "environment": "production",
        "criticality": "high",
        "status": "operational",
    }


def edit_form(w: World, scope: str, system: System) -> dict[str, Any]:
    return {
        "name": "Renamed",
        "description": system.description,
        "environment": system.environment,
        "criticality": system.criticality,
        "version": etag_of(system),
    }


def project_form(w: World, scope: str, _obj: Any) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "unit": w.unit_of(scope).pk,
        "system": make_system(w, scope).pk,
        "name": "New project",
        "planned_budget": "100000",
        "planned_start": today.isoformat(),
        "planned_finish": (today + dt.timedelta(days=90)).isoformat(),
        "size_unit": "fp",
    }


FIGURES = {
    "planned_value": "10000",
    "earned_value": "10000",
    "actual_cost": "10000",
    "percent_complete": "10",
}


def report_form(w: World, scope: str, _obj: Any) -> dict[str, Any]:
    return {"period": timezone.localdate().strftime("%Y-%m"), **FIGURES}


def correction_form(w: World, scope: str, report: QualityReport) -> dict[str, Any]:
    return {
        **FIGURES,
        "earned_value": "9000",
        "reason": "EV was mistyped.",
        "version": etag_of(report),
    }


def work_rows(prefix: str) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": "0",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "5",
    }


def review_form(w: World, scope: str, _obj: Any) -> dict[str, Any]:
    answers = cast(dict[str, str], REVIEW_BODY["checklist"])
    checks = {f"check_{key}": answer for key, answer in answers.items()}
    return {
        **checks,
        "verdict": REVIEW_BODY["verdict"],
        "summary": REVIEW_BODY["summary"],
        **work_rows("findings"),
    }


def release_form(w: World, scope: str, _obj: Any) -> dict[str, Any]:
    return {
        "outcome": "approved",
        "reason": "Ready.",
        "override_reason": "Not yet rated.",
        **work_rows("conditions"),
    }


def thresholds_form(w: World, scope: str, _obj: Any) -> dict[str, Any]:
    """The whole table as read, with SPI changed. A transactional test before this one may have
    emptied the migration's rows: they are put back first."""
    defaults = import_module("quality.migrations.0002_default_thresholds").DEFAULTS
    for indicator, (green, red) in defaults.items():
        Threshold.objects.get_or_create(indicator=indicator, defaults={"green": green, "red": red})
    data: dict[str, Any] = {}
    for threshold in Threshold.objects.all():
        data[f"{threshold.indicator}_green"] = str(threshold.green)
        data[f"{threshold.indicator}_red"] = str(threshold.red)
        data[f"{threshold.indicator}_version"] = etag_of(threshold)
    data["spi_green"], data["spi_red"] = str(Decimal("0.9")), str(Decimal("0.8"))
    return data


def thresholds_now() -> Any:
    return list(Threshold.objects.order_by("indicator").values())


def action_version(w: World, scope: str, action: Action, **more: Any) -> dict[str, Any]:
    return {"version": action_services.etag(action), **more}


def act_args(verb: str) -> Callable[[Action], list[Any]]:
    return lambda action: [action.pk, verb]


def act_body(note: str) -> Callable[[World, str, Action], dict[str, Any]]:
    return lambda w, scope, action: action_version(w, scope, action, note=note)


def decision_form(w: World, scope: str, _item: Any) -> dict[str, Any]:
    return {
        "outcome": "noted",
        "text": "Noted the SOC report.",
        "effect": "none",
        "actions-TOTAL_FORMS": "0",
        "actions-INITIAL_FORMS": "0",
        "actions-MIN_NUM_FORMS": "0",
        "actions-MAX_NUM_FORMS": "20",
    }


def directive_form(w: World, scope: str, _obj: Any) -> dict[str, Any]:
    return {
        "title": "Patch the VPN",
        "body": "Apply the vendor fix.",
        "domain": "security",
        "deadline": future(),
        "address": "units",
        "units": [w.unit.code],
    }


def resolution_form(w: World, scope: str, _obj: Any) -> dict[str, Any]:
    body = resolution_body(w, scope)
    deadline = timezone.localtime(timezone.now() + dt.timedelta(days=2), w.committee.zone)
    return {
        "committee": w.committee.pk,
        "title": body["title"],
        "text": body["text"],
        "deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
        "effect": "none",
    }


def _with_agenda(build: Setup) -> Setup:
    """Moving an item changes its neighbours too: the whole agenda is the snapshot."""

    def setup(w: World, scope: str) -> Req:
        req = build(w, scope)
        meeting_pk = int(req.url.strip("/").split("/")[1])
        return Req(
            req.url,
            req.body,
            req.headers,
            lambda: list(AgendaItem.objects.filter(meeting_id=meeting_pk).order_by("pk").values()),
        )

    return setup


# --- Software inventory and vulnerabilities ----------------------------------------------------

CDX_LOG4J = "cyclonedx/defectdojo_cdx_nested-component-log4j.json"
NVD_FEDORA = "nvd/dtrack_nvdcve-2.0-2021_duplicate-cpes.json"
LOG4J_RANGE = ">=2.0|<2.17.1"


def log4j_component(w: World, scope: str) -> Component:
    return Component.objects.get(system=log4j_system(w, scope))


def identity_of(w: World, scope: str) -> NetworkIdentity:
    return inventory.add_network_identity(
        actor=w.admin, system=make_system(w, scope), kind="hostname", value=host(w)
    )


def host(w: World) -> str:
    return f"host-{w.next()}.example.com"


def inventory_now(system: System) -> Callable[[], Any]:
    """What an inventory write would change: its uploads, and every entry (current or not)."""
    return lambda: (
        list(SbomUpload.objects.filter(system=system).values_list("pk")),
        list(Component.objects.filter(system=system).order_by("pk").values()),
    )


def inventory_write(name: str, body: Callable[[World, str, System], dict[str, Any]]) -> Setup:
    """A form on a log4j system's inventory: the system's entries are the snapshot."""

    def build(w: World, scope: str) -> Req:
        system = log4j_system(w, scope)
        return Req(
            reverse(name, args=[system.pk]),
            body(w, scope, system),
            {},
            both(row_of(system), inventory_now(system)),
        )

    return build


def sbom_form(w: World, scope: str, _system: System) -> dict[str, Any]:
    """A real CycloneDX SBOM as the page's file field sends it (multipart)."""
    content = sample(CDX_LOG4J).read_bytes()
    return {"file": SimpleUploadedFile("bom.json", content, "application/json")}


def component_form(w: World, scope: str, _system: System) -> dict[str, Any]:
    return {"kind": "purl", "identifier": "pkg:pypi/django@4.2.1", "version": ""}


def network_form(w: World, scope: str, _system: System) -> dict[str, Any]:
    return {"kind": "hostname", "value": host(w), "valid_from": "", "valid_to": ""}


def finding_to_review(w: World, scope: str) -> Finding:
    """An item to review, as matching makes one: an NVD record whose CPE names every version
    of Fedora (the sample's "fedora:33" widened to "*"), and a system that runs Fedora 36."""
    payload = sample(NVD_FEDORA).read_bytes()
    payload = payload.replace(
        b"cpe:2.3:o:fedoraproject:fedora:33:", b"cpe:2.3:o:fedoraproject:fedora:*:"
    )
    advisory_services.import_file(
        actor=w.users["ciso"], kind="nvd", stream=io.BytesIO(payload), origin=NVD_FEDORA
    )
    system = make_system(w, scope)
    inventory.add_components(
        actor=w.member_of(scope),
        system=system,
        entries=[inventory.Entry("cpe", "cpe:2.3:o:fedoraproject:fedora:36:*:*:*:*:*:*:*")],
    )
    finding = Finding.objects.get(system=system)
    assert finding.state == Finding.State.REVIEW, finding.state
    return finding


def with_officer(make: Callable[[World, str], Finding]) -> Callable[[World, str], Finding]:
    """`make`'s finding, its unit's member (bu_member, or other_bu_member for "other") made
    the unit's on-site security officer by an administrator."""

    def build(w: World, scope: str) -> Finding:
        finding = make(w, scope)
        account_services.add_member(
            actor=w.admin,
            unit=w.unit_of(scope),
            user=w.member_of(scope),
            kind=Membership.Kind.SECURITY_OFFICER,
        )
        return finding

    return build


def officer_role(scope: str) -> str:
    return "other" if scope == "other" else "member"


def false_positive_form(w: World, scope: str, finding: Finding) -> dict[str, Any]:
    return {"fp-reason": "The vulnerable class is never loaded.", "fp-version": etag_of(finding)}


def confirm_form(w: World, scope: str, finding: Finding) -> dict[str, Any]:
    return {"confirm-version": etag_of(finding)}


def accept_form(w: World, scope: str, finding: Finding) -> dict[str, Any]:
    return {
        "accept-until": future(30),
        "accept-reason": "The vendor's fix ships next month.",
        "accept-version": etag_of(finding),
    }


def exposure_question(w: World, scope: str) -> Req:
    """The morning-of question about log4j-core, with an exposed system in each unit."""
    log4j_system(w, "own")
    log4j_system(w, "other")
    query = urlencode({"package": LOG4J, "range": LOG4J_RANGE})
    return Req(f"{reverse('vulnerabilities:exposure')}?{query}")


def exposure_order(*, confirm: bool) -> Setup:
    """The directive from the answer: its first press (the confirmation page), or the second
    with `confirm=yes` and the systems the confirmation page listed."""

    def build(w: World, scope: str) -> Req:
        systems = [log4j_system(w, "own"), log4j_system(w, "other")]
        body: dict[str, Any] = {
            "title": "Upgrade log4j-core",
            "body": "Upgrade to 2.17.1 or later.",
            "deadline": future(7),
            "package": LOG4J,
            "range": LOG4J_RANGE,
        }
        if confirm:
            body.update(confirm="yes", systems=",".join(str(s.pk) for s in systems))
        url = reverse("vulnerabilities:exposure-directive")
        return Req(url, body, {}, count_of(Directive, Action))

    return build


def deadlines_form(w: World, scope: str, _obj: Any) -> dict[str, Any]:
    """The whole table as read, with P1 changed. A transactional test before this one may have
    emptied the migration's rows: they are put back first."""
    defaults = import_module("vulnerabilities.migrations.0002_default_deadlines").DEFAULTS
    for priority, days in defaults.items():
        RemediationDeadline.objects.get_or_create(priority=priority, defaults={"days": days})
    data: dict[str, Any] = {}
    for deadline in RemediationDeadline.objects.all():
        data[f"{deadline.priority}_days"] = str(deadline.days)
        data[f"{deadline.priority}_version"] = etag_of(deadline)
    data["p1_days"] = "5"
    return data


def deadlines_now() -> Any:
    return list(RemediationDeadline.objects.order_by("priority").values())


# --- Scans and the attack surface ----------------------------------------------------------

TRIVY_PIP = "trivy/trivy_pip.json"
NMAP = "nmap/libnmap_2_hosts_version.xml"
NMAP_STRANGER = "74.207.244.221"  # a host of the nmap sample no system claims
# Who uploads a scan of a system (policy.scan_office): its unit, the CISO's office, and an
# administrator (who keeps every system's register entry).
SCAN_UPLOADERS = {"unit", "ciso", "admin"}
# Who sees the attack surface: those who read everything (the CISO's office among them).
SURFACE_READERS = set(OVERSIGHT)


def trivy_scan(w: World, scope: str) -> Scan:
    """A Trivy report of a system of the scope's unit, uploaded by the CISO's office."""
    upload = SimpleUploadedFile("trivy_pip.json", sample(TRIVY_PIP).read_bytes())
    scan = scan_services.receive(actor=w.users["ciso"], upload=upload, system=make_system(w, scope))
    assert scan.state == Scan.State.DONE, scan.error
    return scan


def scan_upload(w: World, scope: str) -> Req:
    """The scans page's upload form: the Trivy report of a system of the scope's unit."""
    system = make_system(w, scope)
    body = {
        "file": SimpleUploadedFile("trivy_pip.json", sample(TRIVY_PIP).read_bytes()),
        "system": str(system.pk),
        "format": "",
    }
    return Req(reverse("vulnerabilities:scans"), body, {}, count_of(Scan, Finding))


def discovered_asset(w: World, scope: str) -> DiscoveredAsset:
    """An address nobody registered, found by a scan of the company's addresses and assigned
    by the CISO's office to the scope's unit."""
    upload = SimpleUploadedFile("nmap.xml", sample(NMAP).read_bytes())
    scan = scan_services.receive(actor=w.users["ciso"], upload=upload)
    assert scan.state == Scan.State.DONE, scan.error
    asset = DiscoveredAsset.objects.get(address=NMAP_STRANGER)
    return surface_services.assign(actor=w.users["ciso"], asset=asset, unit=w.unit_of(scope))


def assign_asset_form(w: World, scope: str, asset: DiscoveredAsset) -> dict[str, Any]:
    return {
        "assign-unit": w.unit_of(scope).code,
        "assign-due_on": future(30),
        "assign-note": "Their CDN node",
        "assign-version": etag_of(asset),
    }


def dismiss_asset_form(w: World, scope: str, asset: DiscoveredAsset) -> dict[str, Any]:
    return {
        "dismiss-reason": DiscoveredAsset.Reason.NOT_OURS,
        "dismiss-note": "A customer's address.",
        "dismiss-version": etag_of(asset),
    }


def attach_asset_form(w: World, scope: str, asset: DiscoveredAsset) -> dict[str, Any]:
    return {"attach-system": str(make_system(w, scope).pk), "attach-version": etag_of(asset)}


# --- The matrix ----------------------------------------------------------------------------

PAGE_ROWS: list[PageRow] = [
    # the landing page, and the calendar feed (its token is the credential: no sign-in)
    *read("dashboard", "none", page("none", ALL)),
    # the navigation's count of what waits for the reader (htmx, on every page)
    *read("committee:waiting-count", "none", page("none", ALL)),
    *[
        PageRow("calendar-feed", method, "none", dict.fromkeys(ROLES, OK), calendar)
        for method in METHODS
    ],
    *[
        PageRow("calendar-feed", method, "revoked", dict.fromkeys(ROLES, HIDDEN), calendar)
        for method in METHODS
    ],
    # meetings: anyone signed in sees that they exist; the secretariat runs them
    *read("committee:meetings", "none", page("none", ALL)),
    PageRow(
        "committee:feed-create",
        "POST",
        "none",
        page("none", ALL),
        at("committee:feed-create", extra=count_of(CalendarFeed)),
    ),
    PageRow(
        "committee:feed-revoke",
        "POST",
        "none",
        page("none", {"member"}, sees={"member"}),
        at("committee:feed-revoke", member_feed),
    ),
    *read("committee:meeting", "none", page("none", ALL), meeting_in("scheduled")),
    *read("committee:meeting-ical", "none", page("none", ALL), meeting_in("published")),
    *read("committee:meeting-pack", "none", page("none", ALL), meeting_in("published")),
    PageRow(
        "committee:assemble",
        "POST",
        "none",
        page("none", SECRETARIAT),
        at("committee:assemble", meeting_in("scheduled"), extra=count_of(AgendaItem)),
    ),
    PageRow(
        "committee:publish",
        "POST",
        "none",
        page("none", SECRETARIAT),
        at(
            "committee:publish",
            meeting_in("scheduled"),
            body=lambda w, s, m: {"confirm": "yes"},
        ),
    ),
    PageRow(
        "committee:hold",
        "POST",
        "none",
        page("none", SECRETARIAT),
        at("committee:hold", meeting_in("quorate")),
    ),
    PageRow(
        "committee:item-add",
        "POST",
        "none",
        page("none", SECRETARIAT),
        at(
            "committee:item-add",
            meeting_in("scheduled"),
            body=lambda w, s, m: {"title": "SOC budget"},
            extra=count_of(AgendaItem),
        ),
    ),
    # an item with no unit is invisible to a unit's people: 404 for them (deny by default)
    PageRow(
        "committee:item-remove",
        "POST",
        "none",
        page("none", SECRETARIAT, sees=OVERSIGHT),
        at(
            "committee:item-remove",
            meeting_with_items("scheduled"),
            args=item_args,
            body=lambda w, s, item: {f"remove-{item.pk}-reason": "Duplicate"},
        ),
    ),
    PageRow(
        "committee:item-move",
        "POST",
        "none",
        page("none", SECRETARIAT, sees=OVERSIGHT),
        _with_agenda(
            at(
                "committee:item-move",
                meeting_with_items("scheduled", count=2),
                args=item_args,
                body=lambda w, s, item: {"direction": "up"},
            )
        ),
    ),
    *both_methods(
        "committee:decide",
        "none",
        page("none", OVERSIGHT, sees=OVERSIGHT),
        page("none", {"chair", "secretary", "admin"}, sees=OVERSIGHT),
        at(
            "committee:decide",
            meeting_with_items("quorate"),
            args=item_args,
            body=decision_form,
            extra=count_of(Decision),
        ),
    ),
    *both_methods(
        "committee:attendance",
        "none",
        page("none", OVERSIGHT, sees=OVERSIGHT),
        page("none", SECRETARIAT, sees=OVERSIGHT),
        at(
            "committee:attendance",
            meeting_in("published"),
            body=lambda w, s, m: {
                f"p{row.person_id}-status": "absent" for row in m.attendance.all()
            },
            extra=lambda: list(Attendance.objects.order_by("pk").values()),
        ),
    ),
    *read(
        "committee:quorum",
        "none",
        page("none", OVERSIGHT, sees=OVERSIGHT),
        meeting_in("published"),
    ),
    *read(
        "committee:minutes",
        "none",
        page("none", OVERSIGHT, sees=OVERSIGHT),
        held_minutes,
        args=minutes_args,
    ),
    PageRow(
        "committee:minutes-draft",
        "POST",
        "none",
        page("none", SECRETARIAT),
        at(
            "committee:minutes-draft",
            held_minutes,
            args=minutes_args,
            body=lambda w, s, m: {"body": "Redrafted.", "version": minutes_etag(m)},
            extra=count_of(Minutes),
        ),
    ),
    PageRow(
        "committee:minutes-approve",
        "POST",
        "none",
        page("none", {"chair"}),
        at(
            "committee:minutes-approve",
            held_minutes,
            args=minutes_args,
            body=lambda w, s, m: {"version": minutes_etag(m), "confirm": "yes"},
        ),
    ),
    # written resolutions: the chair opens one; whoever fills a voting seat votes, once
    *read("committee:resolutions", "none", page("none", ALL)),
    *both_methods(
        "committee:resolution-new",
        "none",
        page("none", {"chair"}, sees=ALL),
        page("none", {"chair"}, sees=ALL),
        at("committee:resolution-new", body=resolution_form, extra=count_of(WrittenResolution)),
    ),
    *read(
        "committee:resolution",
        "none",
        page("none", OVERSIGHT, sees=OVERSIGHT),
        make_resolution,
    ),
    PageRow(
        "committee:resolution-vote",
        "POST",
        "none",
        page("none", VOTERS, sees=OVERSIGHT),
        at(
            "committee:resolution-vote",
            make_resolution,
            body=lambda w, s, r: {"choice": "for", "confirm": "yes"},
            extra=ballots_now,
        ),
    ),
    # incidents
    *read("cases:incidents", "none", page("none", ALL)),
    PageRow(
        "cases:incident-new",
        "GET",
        "none",
        page("none", IN_UNITS, sees=ALL),
        at("cases:incident-new"),
    ),
    *[
        PageRow(
            "cases:incident-new",
            "POST",
            s,
            own_units_form(s, admin=False),
            at("cases:incident-new", body=incident_form, extra=count_of(Incident)),
        )
        for s in UNIT_SCOPES
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in read("cases:incident", s, page(s, seers(s)), incident_in("reported"))
    ],
    *[
        PageRow(
            f"cases:incident-{suffix}",
            "POST",
            s,
            page(s, CASE_STEERING),
            at(f"cases:incident-{suffix}", incident_in("reported"), body=body, extra=extra),
        )
        for suffix, body, extra in [
            ("transition", lambda w, s, i: {"act": "triage"}, None),
            ("note", lambda w, s, i: {"text": "Called the vendor."}, count_of(TimelineEntry)),
            ("severity", lambda w, s, i: {"severity": "low", "reason": "Contained"}, None),
            (
                "root-cause",
                lambda w, s, i: {"root_cause": "Weak MFA", "version": etag_of(i)},
                None,
            ),
            (
                "measure",
                lambda w, s, i: {"description": "Enforce MFA", "internet_facing": "true"},
                count_of(RecurrenceMeasure),
            ),
        ]
        for s in UNIT_SCOPES
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in both_methods(
            "cases:measure-rollout",
            s,
            page(s, SECURITY_OFFICE),
            page(s, SECURITY_OFFICE),
            at(
                "cases:measure-rollout",
                measure_of,
                args=lambda m: [m.incident_id, m.pk],
                body=lambda w, s, m: {"deadline": future()},
                extra=count_of(Directive, Action),
            ),
        )
    ],
    # risks
    *read("cases:risks", "none", page("none", ALL)),
    *read("cases:heatmap", "none", page("none", ALL)),
    PageRow(
        "cases:risk-new",
        "GET",
        "none",
        page("none", IN_UNITS, sees=ALL),
        at("cases:risk-new"),
    ),
    *[
        PageRow(
            "cases:risk-new",
            "POST",
            s,
            own_units_form(s, admin=False),
            at("cases:risk-new", body=risk_form, extra=count_of(Risk)),
        )
        for s in UNIT_SCOPES
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in read("cases:risk", s, page(s, seers(s)), risk_in("identified"))
    ],
    *[
        PageRow(
            "cases:risk-reassess",
            "POST",
            s,
            page(s, CASE_STEERING),
            at("cases:risk-reassess", risk_in("identified"), body=reassess_form),
        )
        for s in UNIT_SCOPES
    ],
    *[
        PageRow(
            "cases:risk-transition",
            "POST",
            s,
            page(s, CASE_STEERING),
            at(
                "cases:risk-transition",
                risk_in("identified"),
                body=lambda w, s, r: {"act": "assess"},
            ),
        )
        for s in UNIT_SCOPES
    ],
    # systems
    *read("systems:systems", "none", page("none", ALL)),
    PageRow(
        "systems:register",
        "GET",
        "none",
        page("none", WITH_UNITS, sees=ALL),
        at("systems:register"),
    ),
    *[
        PageRow(
            "systems:register",
            "POST",
            s,
            page(s, {"unit", "admin"}, sees=ALL),
            at("systems:register", body=system_form, extra=count_of(System)),
        )
        for s in UNIT_SCOPES
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in read("systems:system", s, page(s, seers(s)), make_system)
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in both_methods(
            "systems:edit",
            s,
            page(s, {"unit", "admin"}),
            page(s, {"unit", "admin"}),
            at("systems:edit", make_system, body=edit_form),
        )
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in both_methods(
            "systems:suspend",
            s,
            page(s, SECURITY_OFFICE),
            page(s, SECURITY_OFFICE),
            at(
                "systems:suspend",
                make_system,
                body=lambda w, s, o: {"reason": "Exposed console", "confirm": "yes"},
                extra=count_of(SuspensionOrder),
            ),
        )
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in both_methods(
            "systems:lift",
            s,
            page(s, SECURITY_OFFICE),
            page(s, SECURITY_OFFICE),
            at(
                "systems:lift",
                make_order,
                body=lambda w, s, o: {"reason": "Fixed", "confirm": "yes"},
            ),
        )
    ],
    # quality: a project is seen by its unit, oversight and the quality reviewers
    *read("quality:projects", "none", page("none", ALL)),
    PageRow(
        "quality:register",
        "GET",
        "none",
        page("none", WITH_UNITS, sees=ALL),
        at("quality:register"),
    ),
    *[
        PageRow(
            "quality:register",
            "POST",
            s,
            # the system must be one the person sees: another unit's is not offered (400)
            own_units_form(s, admin=True),
            at("quality:register", body=project_form, extra=count_of(Project)),
        )
        for s in UNIT_SCOPES
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in read("quality:project", s, page(s, unit_roles(s) | PROJECT_SEERS), make_project)
    ],
    *[
        PageRow(
            "quality:advance",
            "POST",
            s,
            page(s, {"unit"}, sees=unit_roles(s) | PROJECT_SEERS),
            at("quality:advance", make_project, body=lambda w, s, p: {"version": etag_of(p)}),
        )
        for s in UNIT_SCOPES
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in both_methods(
            "quality:report",
            s,
            page(s, {"unit"}, sees=unit_roles(s) | PROJECT_SEERS),
            page(s, {"unit"}, sees=unit_roles(s) | PROJECT_SEERS),
            at("quality:report", make_project, body=report_form, extra=count_of(QualityReport)),
        )
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in both_methods(
            "quality:correct_report",
            s,
            page(s, {"unit"}, sees=unit_roles(s) | PROJECT_SEERS),
            page(s, {"unit"}, sees=unit_roles(s) | PROJECT_SEERS),
            at(
                "quality:correct_report",
                reported_project,
                args=report_args,
                body=correction_form,
            ),
        )
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in both_methods(
            "quality:review",
            s,
            page(s, {"reviewer"}, sees=unit_roles(s) | PROJECT_SEERS),
            page(s, {"reviewer"}, sees=unit_roles(s) | PROJECT_SEERS),
            at("quality:review", make_project, body=review_form, extra=count_of(Review)),
        )
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in both_methods(
            "quality:release",
            s,
            page(s, GATE, sees=unit_roles(s) | PROJECT_SEERS),
            page(s, GATE, sees=unit_roles(s) | PROJECT_SEERS),
            at(
                "quality:release",
                project_in("test"),
                body=release_form,
                extra=count_of(ReleaseDecision),
            ),
        )
    ],
    *both_methods(
        "quality:thresholds",
        "none",
        page("none", ALL),
        page("none", GATE),
        at("quality:thresholds", body=thresholds_form, extra=thresholds_now),
    ),
    # actions
    *read("actions:actions", "none", page("none", ALL)),
    *[
        row
        for s in UNIT_SCOPES
        for row in read("actions:action", s, page(s, seers(s)), action_in("open"))
    ],
    *[
        row
        for s in UNIT_SCOPES
        for row in read(
            "actions:evidence",
            s,
            page(s, seers(s)),
            evidence_of,
            args=lambda e: [e.update.action_id, e.pk],
        )
    ],
    *[
        PageRow(
            "actions:action-update",
            "POST",
            s,
            page(s, {"unit"}),
            at(
                "actions:action-update",
                action_in("in_progress"),
                body=lambda w, s, a: action_version(w, s, a, note="Half done", percent_done=50),
                extra=count_of(ActionUpdate),
            ),
        )
        for s in UNIT_SCOPES
    ],
    *[
        PageRow(
            "actions:action-replan",
            "POST",
            s,
            page(s, SECURITY_OFFICE),
            at(
                "actions:action-replan",
                action_in("open"),
                body=lambda w, s, a: action_version(
                    w, s, a, reason="Vendor late", due_on=future(60)
                ),
            ),
        )
        for s in UNIT_SCOPES
    ],
    *[
        PageRow(
            "actions:action-act",
            "POST",
            s,
            page(s, allowed),
            at(
                "actions:action-act",
                action_in(state),
                args=act_args(verb),
                body=act_body(note),
            ),
            variant=verb,
        )
        for verb, state, allowed, note in [
            ("start", "open", {"unit"}, ""),
            ("submit", "in_progress", {"unit"}, ""),
            ("verify", "submitted", SECURITY_OFFICE, ""),
            ("return", "submitted", SECURITY_OFFICE, "No evidence."),
            ("cancel", "open", SECURITY_OFFICE, "Superseded."),
        ]
        for s in UNIT_SCOPES
    ],
    # the owning unit's head names who in the unit does an action
    *[
        PageRow(
            "actions:action-assign",
            "POST",
            s,
            page(s, unit_roles(s) & {"head"}),
            at(
                "actions:action-assign",
                action_in("open"),
                body=lambda w, s, a: action_version(w, s, a, assignee=w.member_of(s).username),
            ),
        )
        for s in UNIT_SCOPES
    ],
    # a unit's workload: its head and oversight (the directory of units is open to everyone)
    *[
        row
        for s in UNIT_SCOPES
        for row in read(
            "actions:unit-workload",
            s,
            page(s, (unit_roles(s) & {"head"}) | OVERSIGHT, sees=ALL),
            lambda w, scope: w.unit_of(scope),
            args=lambda unit: [unit.code],
        )
    ],
    # directives (security: the CISO's, any: the chair's)
    *read("actions:directives", "none", page("none", ALL)),
    PageRow(
        "actions:directive-new",
        "GET",
        "none",
        page("none", {"ciso", "cqo", "chair"}, sees=ALL),
        at("actions:directive-new"),
    ),
    PageRow(
        "actions:directive-new",
        "POST",
        "none",
        page("none", SECURITY_OFFICE, sees=ALL),
        at("actions:directive-new", body=directive_form, extra=count_of(Directive)),
    ),
    *[
        row
        for s in UNIT_SCOPES
        for row in read("actions:directive", s, page(s, seers(s)), directive(issued=True))
    ],
    *[
        # a draft has tasked nobody yet: only oversight sees it
        PageRow(
            "actions:directive-issue",
            "POST",
            s,
            page(s, SECURITY_OFFICE, sees=OVERSIGHT),
            at(
                "actions:directive-issue",
                directive(issued=False),
                body=lambda w, s, d: {"confirm": "yes"},
                extra=count_of(Action),
            ),
        )
        for s in UNIT_SCOPES
    ],
    *[
        PageRow(
            "actions:directive-withdraw",
            "POST",
            s,
            page(s, SECURITY_OFFICE),
            at(
                "actions:directive-withdraw",
                directive(issued=True),
                body=lambda w, s, d: {"reason": "Superseded."},
            ),
        )
        for s in UNIT_SCOPES
    ],
    # the audit trail: auditors, chair, CISO, CQO; to anyone else it is not there
    *read("audit:events", "none", page("none", AUDIT_READERS, sees=AUDIT_READERS)),
    PageRow(
        "audit:verify",
        "POST",
        "none",
        page("none", AUDIT_READERS, sees=AUDIT_READERS),
        at("audit:verify", extra=lambda: AuditEvent.objects.filter(verb="audit.verified").count()),
    ),
    # a system's software inventory: read with the system, kept by its unit (and admins)
    *[
        row
        for s in UNIT_SCOPES
        for row in read("systems:inventory", s, page(s, seers(s)), log4j_system)
    ],
    *[
        PageRow(name, "POST", s, page(s, {"unit", "admin"}), inventory_write(name, body))
        for name, body in [
            ("systems:inventory-sbom", sbom_form),
            ("systems:inventory-add", component_form),
            ("systems:network-add", network_form),
        ]
        for s in UNIT_SCOPES
    ],
    *[
        PageRow(
            "systems:component-remove",
            "POST",
            s,
            page(s, {"unit", "admin"}),
            at("systems:component-remove", log4j_component),
        )
        for s in UNIT_SCOPES
    ],
    *[
        PageRow(
            "systems:network-end",
            "POST",
            s,
            page(s, {"unit", "admin"}),
            at("systems:network-end", identity_of),
        )
        for s in UNIT_SCOPES
    ],
    # findings: seen with their systems (another unit's are not there); set aside or confirmed
    # by the unit's security officer or the CISO's office; a risk accepted by the CISO alone
    *read("vulnerabilities:findings", "none", page("none", ALL)),
    *[
        row
        for s in UNIT_SCOPES
        for row in read("vulnerabilities:finding", s, page(s, seers(s)), make_finding)
    ],
    *[
        PageRow(
            f"vulnerabilities:finding-{suffix}",
            "POST",
            s,
            page(s, {"ciso", officer_role(s)} if officer and may_officer else {"ciso"}),
            at(
                f"vulnerabilities:finding-{suffix}",
                with_officer(make) if officer else make,
                body=body,
                extra=count_of(Action),
            ),
            variant="officer" if officer else "",
        )
        for suffix, make, body, may_officer in [
            ("false-positive", make_finding, false_positive_form, True),
            ("confirm", finding_to_review, confirm_form, True),
            ("accept", make_finding, accept_form, False),
        ]
        for officer in (False, True)
        for s in UNIT_SCOPES
    ],
    # the morning-of question: everyone, of the systems they see; a directive from its answer
    # by the CISO or the chair, asked first and issued on the confirmed second post
    *[
        PageRow("vulnerabilities:exposure", method, "none", page("none", ALL), exposure_question)
        for method in METHODS
    ],
    *[
        PageRow(
            "vulnerabilities:exposure-directive",
            "POST",
            "none",
            page("none", SECURITY_OFFICE),
            exposure_order(confirm=confirm),
            variant="confirm" if confirm else "ask",
        )
        for confirm in (False, True)
    ],
    # remediation deadlines: read by everyone, set by the CISO (and admins, as the API allows)
    *both_methods(
        "vulnerabilities:deadlines",
        "none",
        page("none", ALL),
        page("none", {"ciso", "admin"}),
        at("vulnerabilities:deadlines", body=deadlines_form, extra=deadlines_now),
    ),
    PageRow(
        "vulnerabilities:posture",
        "GET",
        "none",
        page("none", ALL),
        at("vulnerabilities:posture"),
    ),
    # scans: seen with their systems (all for oversight); uploaded from the list page by the
    # system's unit or the CISO's office (in the world, a person who keeps no system of the
    # scope's unit keeps none at all, so is refused the upload outright)
    PageRow("vulnerabilities:scans", "GET", "none", page("none", ALL), at("vulnerabilities:scans")),
    *[
        PageRow(
            "vulnerabilities:scans",
            "POST",
            s,
            page(s, SCAN_UPLOADERS, sees=ALL),
            scan_upload,
        )
        for s in UNIT_SCOPES
    ],
    *[
        PageRow(name, "GET", s, page(s, seers(s)), at(name, trivy_scan))
        for name in ("vulnerabilities:scan", "vulnerabilities:scan-progress")
        for s in UNIT_SCOPES
    ],
    # the attack surface: the CISO's office and oversight
    PageRow(
        "vulnerabilities:attack-surface",
        "GET",
        "none",
        page("none", SURFACE_READERS),
        at("vulnerabilities:attack-surface"),
    ),
    # discovered assets: all for oversight, a unit its own; triaged by the CISO's office,
    # attached by the unit to one of its systems (an administrator keeps every system)
    PageRow(
        "vulnerabilities:discovered-assets",
        "GET",
        "none",
        page("none", ALL),
        at("vulnerabilities:discovered-assets"),
    ),
    *[
        PageRow(
            "vulnerabilities:discovered-asset",
            "GET",
            s,
            page(s, seers(s)),
            at("vulnerabilities:discovered-asset", discovered_asset),
        )
        for s in UNIT_SCOPES
    ],
    *[
        PageRow(
            f"vulnerabilities:discovered-asset-{act}",
            "POST",
            s,
            page(s, ok),
            at(f"vulnerabilities:discovered-asset-{act}", discovered_asset, body=body),
        )
        for act, ok, body in [
            ("assign", {"ciso"}, assign_asset_form),
            ("dismiss", {"ciso"}, dismiss_asset_form),
            ("attach", {"unit", "admin"}, attach_asset_form),
        ]
        for s in UNIT_SCOPES
    ],
]


PAGE_ROUTE_METHODS = {(row.name, row.method) for row in PAGE_ROWS}
