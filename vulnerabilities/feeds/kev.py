"""CISA's Known Exploited Vulnerabilities catalogue read into KevEntries, its count checked."""

from __future__ import annotations

import re
from typing import BinaryIO

from django.utils.translation import gettext as _

from vulnerabilities.feeds.common import (
    JsonWalk,
    Utf8Reader,
    day,
    mapping,
    place,
    record_place,
    text,
)
from vulnerabilities.records import FeedError, KevEntry, ReadReport

CVE_ID = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,19}$")


def read_kev(stream: BinaryIO, *, name: str = "") -> ReadReport:
    """The catalogue ({"catalogVersion", "count", "vulnerabilities": […]}). FeedError, and
    nothing read, when it is not one or its count is not the number of its entries."""
    report = ReadReport()
    walk = JsonWalk(Utf8Reader(stream, where=name), where=name, array_key="vulnerabilities")
    for index, value in enumerate(walk.items()):
        here = place(name, record_place(index))
        item = mapping(value, _("A catalogue entry"), here)
        cve_id = text(item, "cveID", here, required=True)
        here = place(name, record_place(index, cve_id))
        if not CVE_ID.match(cve_id):
            raise FeedError(_("“%(id)s” is not a CVE id.") % {"id": cve_id}, where=here)
        date_added = day(item, "dateAdded", here, required=True)
        assert date_added is not None  # required=True
        report.kev.append(
            KevEntry(
                cve_id=cve_id,
                vendor=text(item, "vendorProject", here, required=True),
                product=text(item, "product", here, required=True),
                name=text(item, "vulnerabilityName", here, required=True),
                date_added=date_added,
                due_date=day(item, "dueDate", here),
                known_ransomware=text(item, "knownRansomwareCampaignUse", here) == "Known",
                required_action=text(item, "requiredAction", here),
            )
        )
    if walk.top_is_list or not walk.found_list or "catalogVersion" not in walk.top:
        raise FeedError(
            _("This is not the KEV catalogue: it has no “catalogVersion” and “vulnerabilities”."),
            where=name,
        )
    count = walk.top.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count != len(report.kev):
        raise FeedError(
            _("The catalogue says it has %(count)s entries but holds %(found)d: it is incomplete.")
            % {"count": count, "found": len(report.kev)},
            where=name,
        )
    return report
