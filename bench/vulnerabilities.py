"""P8 full rematch against a bare join and the same range checks; P9 one new advisory matched;
P10 the morning-of question; P11 the findings list's queries for 50 rows and for one."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import OfficeCode, Role, User
from bench.harness import Result, alternate, count_queries, ms
from bench.lists import client_for
from systems.models import Component
from vulnerabilities import matching, selectors
from vulnerabilities.models import Finding
from vulnerabilities.records import AdvisoryRecord, AffectedPackage, ReadReport
from vulnerabilities.services import advisories, remediation
from vulnerabilities.services import findings as findings_service

POPULAR = "pkg:npm/lodash"  # the generator's most popular package: on nearly every system
MORNING_OF = "pkg:maven/org.apache.logging.log4j/log4j-core"

# The bare side of P8: every current component joined with every live range of its package,
# the rows streamed from a server-side cursor. Read-only: nothing here is written.
BARE_JOIN = """
    SELECT c.system_id, a.vulnerability_id, c.package, c.version, c.scheme, r.scheme, r.vers,
           r.review_only
    FROM systems_component c
    JOIN vulnerabilities_affectedrange r ON r.package = c.package
    JOIN vulnerabilities_advisory a ON a.id = r.advisory_id
    JOIN vulnerabilities_vulnerability v ON v.id = a.vulnerability_id
    WHERE c.removed_at IS NULL AND c.scheme <> ''
      AND a.withdrawn_at IS NULL AND v.withdrawn_at IS NULL
"""


class _RolledBack(Exception):
    pass


def _cold() -> None:
    """Both sides start with matching's caches empty (parsed ranges and versions)."""
    matching._range.cache_clear()
    matching._version.cache_clear()


def _ciso() -> User:
    return User.objects.get(offices__code=OfficeCode.CISO)


def _median(call: Callable[[], Any], *, runs: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _versions(package: str) -> list[str]:
    """The versions systems run of a package, ascending by its scheme's rules."""
    rows = set(Component.objects.current().filter(package=package).values_list("scheme", "version"))
    return [v for _s, v in sorted(rows, key=lambda row: matching._version(row[0], row[1]))]


def seconds(value: float) -> str:
    return f"{value:.1f} s"


class _Timed:
    """Time spent in a module's function while in the block (instrumentation, not a stand-in:
    the function itself runs)."""

    def __init__(self, module: Any, name: str) -> None:
        self.module, self.name, self.seconds = module, name, 0.0

    def __enter__(self) -> _Timed:
        original = getattr(self.module, self.name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        self.original = original
        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.module, self.name, self.original)


def run_rematch(runs: int) -> list[Result]:
    """P8: what `rematch_all` does from no findings (their deletion untimed, all rolled back),
    its steps timed apart: matching (`for_all`), findings and their audit event (`reconcile`),
    remediation work (`remediation.follow`, set-based), against the bare join with the same
    range check a row."""
    components = Component.objects.current().count()
    state: dict[str, Any] = {}

    def ours() -> float:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("DELETE FROM vulnerabilities_finding")
                _cold()
                started = time.perf_counter()
                hits = matching.for_all()
                matched = time.perf_counter()
                with _Timed(findings_service, "_record") as audit:
                    outcome = findings_service.reconcile(hits, Finding.objects.all(), actor=None)
                reconciled = time.perf_counter()
                work = remediation.follow(opened=outcome.opened, closed=[], actor=None)
                followed = time.perf_counter() - reconciled
                state.update(
                    findings=outcome.counts["opened"] + outcome.counts["review"],
                    systems=len(outcome.systems),
                    matching=matched - started,
                    findings_time=reconciled - matched - audit.seconds,
                    audit=audit.seconds,
                    remediation=followed,
                    actions=work["created"],
                )
                raise _RolledBack
        except _RolledBack:
            pass
        return state["matching"] + state["findings_time"] + state["audit"] + state["remediation"]

    def bare() -> float:
        _cold()
        started = time.perf_counter()
        keys: set[tuple[int, int, str]] = set()
        rows = 0
        with transaction.atomic(), connection.chunked_cursor() as cursor:
            cursor.execute(BARE_JOIN)
            while chunk := cursor.fetchmany(5000):
                rows += len(chunk)
                for system, vulnerability, package, version, scheme, rscheme, vers, review in chunk:
                    if review or matching.affected(rscheme or scheme, version, vers):
                        keys.add((system, vulnerability, package))
        state["bare"], state["rows"] = len(keys), rows
        return time.perf_counter() - started

    mine, theirs = alternate(ours, bare, runs=runs)
    median, baseline = statistics.median(mine), statistics.median(theirs)
    ratio = median / baseline
    same = state["findings"] == state["bare"]
    return [
        Result(
            "P8",
            f"full rematch of {components:,} components from no findings "
            "(matching, findings, audit events, remediation actions)",
            seconds(median),
            seconds(baseline) + f" (bare join, {state['rows']:,} rows, same range check a row)",
            ratio,
            "<= 3.0 and <= 300 s at scale 1",
            ratio <= 3.0 and median <= 300,
            [
                f"{state['findings']:,} findings on {state['systems']:,} systems"
                if same
                else f"FINDINGS DIFFER: ours {state['findings']}, bare {state['bare']}",
                f"matching {seconds(state['matching'])}, findings written "
                f"{seconds(state['findings_time'])}, audit events {seconds(state['audit'])}, "
                f"remediation {seconds(state['remediation'])} for {state['actions']:,} actions",
                f"{runs} run(s) a side, each rolled back",
            ],
            sound=same,
        )
    ]


def _advisory(package: str, vers: str, fixed: str) -> ReadReport:
    """One OSV-like record, as the reader would hand it over."""
    now = timezone.now()
    scheme = package.split(":", 1)[1].split("/", 1)[0]
    return ReadReport(
        advisories=[
            AdvisoryRecord(
                source="osv",
                source_id="GHSA-bench-p9p9-0001",
                aliases=("CVE-2099-0001",),
                summary="Prototype pollution (benchmark).",
                published=now,
                modified=now,
                withdrawn=None,
                cvss_vectors=("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",),
                affected=(
                    AffectedPackage(
                        package=package,
                        scheme=scheme,
                        vers=vers,
                        rule=f"OSV range {vers}",
                        fixed=(fixed,),
                    ),
                ),
            )
        ]
    )


def run_new_advisory(runs: int) -> list[Result]:
    """P9: one new advisory for the most popular package, imported and matched (rolled back),
    with the company's findings already made (else its matching would open every finding of
    the package's other advisories too)."""
    _ensure_findings()
    ciso = _ciso()
    versions = _versions(POPULAR)
    fixed = versions[-5] if len(versions) > 5 else versions[-1]
    vers = f"vers:npm/<{fixed}"
    report = _advisory(POPULAR, vers, fixed)
    running = Component.objects.current().filter(package=POPULAR).count()
    counted: dict[str, Any] = {}

    def ours() -> None:
        try:
            with transaction.atomic(), _Timed(remediation, "follow") as work:
                imported = advisories.import_report(
                    actor=ciso,
                    kind="osv",
                    report=report,
                    origin="bench:P9",
                    started_at=timezone.now(),
                )
                counted.update(imported.counts["findings"])
                counted["remediation"] = work.seconds
                raise _RolledBack
        except _RolledBack:
            pass

    median = _median(ours, runs=runs)
    queries, _statements = count_queries(ours)
    return [
        Result(
            "P9",
            f"one new advisory ({vers} of {POPULAR}, run by {running:,} components) imported, "
            "matched, findings and remediation written",
            ms(median),
            "-",
            None,
            "< 1 s",
            median < 1.0,
            [
                f"{counted.get('opened', 0)} findings opened",
                f"of the time, remediation work {ms(counted['remediation'])} (last run)",
                f"{queries} queries",
                "each run rolled back",
            ],
        )
    ]


def run_morning_of(runs: int) -> list[Result]:
    """P10: which systems run an affected version of a popular package, over all components."""
    ciso = _ciso()
    versions = _versions(MORNING_OF)
    bound = versions[-2] if len(versions) > 1 else versions[-1]
    vers = f"vers:maven/<{bound}"
    answer: dict[str, Any] = {}

    def ours() -> None:
        _cold()
        found = selectors.exposure(ciso, package=MORNING_OF, vers=vers)
        answer["rows"], answer["systems"] = len(found.rows), len(found.system_ids)

    median = _median(ours, runs=runs)
    queries, _statements = count_queries(ours)
    components = Component.objects.current().count()
    return [
        Result(
            "P10",
            f"the morning-of question ({MORNING_OF}, {vers}) for the CISO over "
            f"{components:,} components",
            ms(median),
            "-",
            None,
            "< 1 s",
            median < 1.0,
            [
                f"{answer['rows']:,} rows, {answer['systems']:,} systems",
                f"{queries} queries",
                "matching caches cold each run",
            ],
        )
    ]


def _ensure_findings() -> int:
    """The findings list needs findings: the first run at a scale makes them by matching, and
    commits them. Their remediation work is left out (the list does not need it; P8 times it),
    so P9's findings get new work rather than joining work already running."""
    if not Finding.objects.exists():
        with transaction.atomic():
            findings_service.reconcile(matching.for_all(), Finding.objects.all(), actor=None)
    return Finding.objects.count()


def _list(client: Any, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return len(response.json()["results"])


def run_list(runs: int) -> list[Result]:
    """P11: the findings list for the CISO and a unit member: the same queries for a page of
    fifty as for one finding."""
    total = _ensure_findings()
    ciso = _ciso()
    # A system with exactly one finding (or the fewest), and a plain member of its unit.
    single = (
        Finding.objects.values("system_id")
        .order_by()
        .annotate(n=Count("pk"))
        .order_by("n", "system_id")
        .first()
    )
    assert single is not None
    system_id = single["system_id"]
    unit_id = Finding.objects.filter(system_id=system_id).values_list("system__unit_id")[0][0]
    member = (
        User.objects.filter(memberships__unit_id=unit_id, groups__name=Role.BU_MEMBER)
        .exclude(headed_units__isnull=False)
        .order_by("pk")[0]
    )
    results = []
    for who, user in (("CISO", ciso), ("unit member", member)):
        client = client_for(user)
        page, one = "/api/v1/findings/", f"/api/v1/findings/?system={system_id}"
        rows_page, rows_one = _list(client, page), _list(client, one)
        page_time = _median(partial(client.get, page), runs=runs)
        one_time = _median(partial(client.get, one), runs=runs)
        page_queries, _s = count_queries(partial(client.get, page))
        one_queries, _s = count_queries(partial(client.get, one))
        constant = page_queries == one_queries
        results.append(
            Result(
                "P11" if who == "CISO" else "P11b",
                f"findings list (API), {who}: page 1 ({rows_page} rows) and one system "
                f"({rows_one} row{'s' if rows_one != 1 else ''}), of {total:,} findings",
                f"{ms(page_time)} / {ms(one_time)}",
                "-",
                None,
                "queries constant",
                constant,
                [f"queries {page_queries} for the page, {one_queries} for one system"],
            )
        )
    return results
