"""Demo software, advisories and scans: a clone shows findings (one exploited in the wild and
overdue, some seen only by a scanner), services open on a system registered as not facing the
internet, and an address nobody registered waiting for the CISO's office."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from systems import inventory
from systems.models import Component, NetworkIdentity, System
from vulnerabilities.models import Advisory, Scan
from vulnerabilities.services import advisories, scans

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


# (uploader, system code or None for a scan placed by network identities, file)
SCANS: list[tuple[str, str | None, str]] = [
    ("cloud-member", "cloud-console", "trivy_pip.json"),
    ("ciso", None, "libnmap_2_hosts_version.xml"),
]
# The address the nmap scan finds MySQL open on is the print batch's, registered as not
# facing the internet: the attack-surface page flags it. The other host is nobody's.
IDENTITIES = [("cert-print-batch", NetworkIdentity.Kind.IP, "127.0.0.1")]


def seed_scans() -> None:
    """A unit's container scan and the CISO's scan of the company's addresses, imported as
    uploaded on the pages. Idempotent."""
    if Scan.objects.exists():
        return
    for holder, kind, value in IDENTITIES:
        registered = System.objects.filter(code=holder).first()
        if registered is not None:
            NetworkIdentity.objects.get_or_create(
                system=registered,
                kind=kind,
                value=value,
                defaults={
                    # Since before the sample scan ran (February 2013): hosts are placed by
                    # the identities of the scan's own day.
                    "valid_from": dt.date(2010, 1, 1),
                    "added_by": User.objects.get(username="ciso"),
                },
            )
    for username, code, name in SCANS:
        system = System.objects.filter(code=code).first() if code else None
        if code and system is None:
            continue
        upload = SimpleUploadedFile(name, (DATA / name).read_bytes())
        scans.receive(actor=User.objects.get(username=username), upload=upload, system=system)
