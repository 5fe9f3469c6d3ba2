"""Demo software and advisories: a clone shows findings, one exploited in the wild and overdue."""

from __future__ import annotations

from pathlib import Path

from accounts.models import User
from systems import inventory
from systems.models import Component, System
from vulnerabilities.models import Advisory
from vulnerabilities.services import advisories

DATA = Path(__file__).resolve().parent / "demo_data"

# system code: what it runs
SOFTWARE = {
    "resident-cert": [
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        "pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1",
        "cpe:2.3:o:canonical:ubuntu_linux:20.04:*:*:*:lts:*:*:*",
    ],
    "cloud-console": ["pkg:pypi/django@3.2.1", "pkg:pypi/requests@2.31.0"],
    "project-share": ["pkg:npm/ansi-html@0.0.7", "pkg:npm/express@4.17.1"],
    "cert-print-batch": ["pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1"],
}
FEEDS = [
    ("osv", "osvscanner_Maven_GHSA-3pxv-7cmr-fjr4.json"),
    ("osv", "osvscanner_PyPI_PYSEC-2021-98.json"),
    ("osv", "osvscanner_npm_GHSA-whgm-jr23-g3j9.json"),
    ("osv", "log4shell_GHSA-jfh8-c2jp-5v3q.json"),
    ("kev", "cisa_kev_slice.json"),
]


def seed_vulnerabilities() -> None:
    """Each demo system's software, typed by one of its unit's members, then the advisories
    imported by the CISO: matching makes the findings and the remediation work. Idempotent."""
    for code, identifiers in SOFTWARE.items():
        system = System.objects.filter(code=code).select_related("unit").first()
        if system is None or Component.objects.filter(system=system).exists():
            continue
        member = User.objects.get(username=f"{system.unit.code.lower()}-member")
        inventory.add_components(
            actor=member,
            system=system,
            entries=[
                inventory.Entry("cpe" if text.startswith("cpe:") else "purl", text)
                for text in identifiers
            ],
        )
    if Advisory.objects.exists():
        return
    ciso = User.objects.get(username="ciso")
    for kind, name in FEEDS:
        with (DATA / name).open("rb") as stream:
            advisories.import_file(actor=ciso, kind=kind, stream=stream, origin=f"demo/{name}")
