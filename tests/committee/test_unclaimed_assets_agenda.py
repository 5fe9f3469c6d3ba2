"""The agenda's unclaimed-assets item: internet-facing addresses nobody claimed by the CISO's
deadline go to the committee, and the item says what is true until the agenda is published."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from committee import services
from committee.headings import heading_of
from committee.models import AgendaItem
from vulnerabilities.models import DiscoveredAsset, Scan
from vulnerabilities.services import surface

pytestmark = pytest.mark.django_db

K = AgendaItem.Kind


def asset(scan: Scan, address: str, *, due: int) -> DiscoveredAsset:
    """An address found open on the internet; its triage deadline `due` days from today."""
    now = timezone.now()
    return DiscoveredAsset.objects.create(
        address=address,
        due_on=timezone.localdate() + dt.timedelta(days=due),
        first_seen_at=now,
        last_seen_at=now,
        first_scan=scan,
        last_scan=scan,
    )


@pytest.fixture
def scan(ciso) -> Scan:
    return Scan.objects.create(
        format=Scan.Format.NMAP,
        file="scans/edge.xml",
        file_name="edge.xml",
        size=1,
        sha256="0" * 64,
        state=Scan.State.DONE,
        uploaded_by=ciso,
        uploaded_at=timezone.now(),
    )


def test_assets_left_untriaged_past_the_deadline_go_to_the_committee(
    meeting, secretary, ciso, unit, scan
) -> None:
    late = asset(scan, "198.51.100.7", due=-3)
    asset(scan, "198.51.100.9", due=-1)
    asset(scan, "198.51.100.20", due=5)  # not yet due
    assigned = asset(scan, "198.51.100.30", due=-10)
    surface.assign(actor=ciso, asset=assigned, unit=unit)  # claimed: not the committee's

    services.assemble_agenda(actor=secretary, meeting=meeting)

    [item] = meeting.items.filter(kind=K.UNCLAIMED_ASSETS)
    assert item.said == {
        "count": 2,
        "addresses": ["198.51.100.7", "198.51.100.9"],
        "oldest_due": late.due_on.isoformat(),
    }
    assert item.summary.startswith("2 addresses open on the internet")
    with translation.override("ja"):
        heading, summary = heading_of(item)
    assert "198.51.100.7" in summary and heading != item.title

    # Triaged before the agenda is published: the item says so when assembled again.
    for address in ("198.51.100.7", "198.51.100.9"):
        surface.dismiss(
            actor=ciso,
            asset=DiscoveredAsset.objects.get(address=address),
            reason=DiscoveredAsset.Reason.NOT_OURS,
            note="A hosting customer's address.",
        )
    services.assemble_agenda(actor=secretary, meeting=meeting)
    item.refresh_from_db()
    assert item.said["count"] == 0
    assert "assigned or dismissed" in item.summary


def test_nothing_unclaimed_puts_nothing_on_the_agenda(meeting, secretary, scan) -> None:
    asset(scan, "198.51.100.7", due=2)
    services.assemble_agenda(actor=secretary, meeting=meeting)
    assert not meeting.items.filter(kind=K.UNCLAIMED_ASSETS).exists()
