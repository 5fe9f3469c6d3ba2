"""What an assembled agenda item says about a unit's escalated actions or vulnerabilities, or a
flagged project: kept as data on the item, and put into words in each reader's language when it
is shown."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from quality.models import Indicator, Project, QualityReport


def _label(model: Any, field: str, value: Any) -> str:
    choices = dict(model._meta.get_field(field).flatchoices)
    return str(choices.get(value, value))


def _indicators(keys: list[str]) -> list[str]:
    """An indicator by its name, never its key (`spi`, `test_density`)."""
    names = dict(Indicator.choices)
    return [str(names.get(key, key)) for key in keys]


def escalated(
    *, count: int, oldest_due: str, overdue_days: int, references: list[str]
) -> dict[str, Any]:
    """A unit's actions escalated to the committee: how many, how late the oldest, which."""
    return {
        "count": count,
        "oldest_due": oldest_due,
        "overdue_days": overdue_days,
        "references": references,
    }


NONE_LEFT: dict[str, Any] = {"count": 0}


def say_escalated(said: dict[str, Any]) -> str:
    count = int(said.get("count", 0))
    if not count:
        return _("No action of this unit is escalated to the committee any more.")
    references = list(said.get("references", []))
    named = ", ".join(references)
    if count > len(references):
        named = _("%(named)s and %(n)s more") % {"named": named, "n": count - len(references)}
    return ngettext(
        "%(count)s action overdue a month or more; the oldest due %(due)s, %(days)s days "
        "overdue. %(named)s.",
        "%(count)s actions overdue a month or more; the oldest due %(due)s, %(days)s days "
        "overdue. %(named)s.",
        count,
    ) % {"count": count, "due": said["oldest_due"], "days": said["overdue_days"], "named": named}


def flagged(flag: dict[str, Any]) -> dict[str, Any]:
    """Why a project is flagged, from its flag and report as they stand now (a correction
    restates them), and whether the flag has been withdrawn or cleared since, or is still open
    at a later report. `flag` is a row of committee.services.agenda._facts."""
    period = f"{flag['report__period']:%Y-%m}"
    said: dict[str, Any] = {
        "unit": flag["project__unit__code"],
        "phase": flag["project__phase"],
        "period": period,
    }
    if (
        flag["cleared_by_report_id"] is not None
        and flag["cleared_by_report_id"] == flag["report_id"]
    ):
        return {**said, "withdrawn": True}
    said |= {
        "red": list(flag["red"] or []),
        "trending": list(flag["trending"] or []),
        "spi": None if flag["report__spi"] is None else str(flag["report__spi"]),
        "cpi": None if flag["report__cpi"] is None else str(flag["report__cpi"]),
    }
    if flag["cleared_by_report_id"] is not None:
        said["cleared"] = f"{flag['cleared_by_report__period']:%Y-%m}"
    elif flag["latest_period"] not in (None, flag["report__period"]):
        said["still_open"] = f"{flag['latest_period']:%Y-%m}"
        said["latest_rag"] = flag["latest_rag"]
    return said


def say_flag(said: dict[str, Any]) -> str:
    head = _("%(unit)s, %(phase)s; ") % {
        "unit": said["unit"],
        "phase": _label(Project, "phase", said["phase"]).lower(),
    }
    if said.get("withdrawn"):
        return head + _(
            "flag withdrawn: the %(period)s report that raised it was corrected and rates the "
            "project healthy."
        ) % {"period": said["period"]}
    why = []
    if said["red"]:
        why.append(_("rated red on %(names)s") % {"names": ", ".join(_indicators(said["red"]))})
    if said["trending"]:
        why.append(
            _("%(names)s falling three periods running")
            % {"names": _(" and ").join(_indicators(said["trending"]))}
        )
    text = head + _("%(why)s in the %(period)s report (SPI %(spi)s, CPI %(cpi)s).") % {
        "why": "; ".join(why),
        "period": said["period"],
        "spi": said["spi"] if said["spi"] is not None else "—",
        "cpi": said["cpi"] if said["cpi"] is not None else "—",
    }
    if "cleared" in said:
        text += " " + _("Cleared since by the %(period)s report.") % {"period": said["cleared"]}
    elif "still_open" in said:
        text += " " + _("Still open at the %(period)s report, status %(status)s.") % {
            "period": said["still_open"],
            "status": _label(QualityReport, "rag", said["latest_rag"]).lower(),
        }
    return text


def vulnerable(
    *, overdue_critical: int, kev: int, systems: list[str], system_count: int
) -> dict[str, Any]:
    """A unit's open findings the committee looks at: critical ones past their due date, and
    those of vulnerabilities exploited in the wild (KEV), on which systems (the first few)."""
    return {
        "overdue_critical": overdue_critical,
        "kev": kev,
        "systems": systems,
        "system_count": system_count,
    }


NO_VULNERABILITIES_LEFT: dict[str, Any] = vulnerable(
    overdue_critical=0, kev=0, systems=[], system_count=0
)


def say_vulnerabilities(said: dict[str, Any]) -> str:
    critical, kev = int(said.get("overdue_critical", 0)), int(said.get("kev", 0))
    if not critical and not kev:
        return _(
            "No critical finding past its due date and no exploited vulnerability is open in "
            "this unit any more."
        )
    counts = []
    if critical:
        counts.append(
            ngettext(
                "%(count)s critical finding past its due date",
                "%(count)s critical findings past their due date",
                critical,
            )
            % {"count": critical}
        )
    if kev:
        counts.append(
            ngettext(
                "%(count)s finding of a vulnerability exploited in the wild (KEV)",
                "%(count)s findings of vulnerabilities exploited in the wild (KEV)",
                kev,
            )
            % {"count": kev}
        )
    systems = list(said.get("systems", []))
    total = int(said.get("system_count", len(systems)))
    named = ", ".join(systems)
    if total > len(systems):
        named = _("%(named)s and %(n)s more") % {"named": named, "n": total - len(systems)}
    return ngettext(
        "%(counts)s, on %(count)s system: %(named)s.",
        "%(counts)s, on %(count)s systems: %(named)s.",
        total,
    ) % {"counts": _("; ").join(counts), "count": total, "named": named}


def unclaimed(*, count: int, addresses: list[str], oldest_due: str) -> dict[str, Any]:
    """Addresses open on the internet that nobody has claimed by the CISO's deadline: how
    many, the first few, and the oldest deadline passed."""
    return {"count": count, "addresses": addresses, "oldest_due": oldest_due}


NO_UNCLAIMED_LEFT: dict[str, Any] = unclaimed(count=0, addresses=[], oldest_due="")


def say_unclaimed(said: dict[str, Any]) -> str:
    count = int(said.get("count", 0))
    if not count:
        return _("Every discovered internet-facing asset has been assigned or dismissed since.")
    addresses = list(said.get("addresses", []))
    named = ", ".join(addresses)
    if count > len(addresses):
        named = _("%(named)s and %(n)s more") % {"named": named, "n": count - len(addresses)}
    return ngettext(
        "%(count)s address open on the internet that no registered system claims is still "
        "untriaged past the CISO's deadline (the oldest since %(due)s): %(named)s.",
        "%(count)s addresses open on the internet that no registered system claims are still "
        "untriaged past the CISO's deadline (the oldest since %(due)s): %(named)s.",
        count,
    ) % {"count": count, "due": said.get("oldest_due", ""), "named": named}


def in_english(say: Any, said: dict[str, Any]) -> str:
    """The stored summary, which the API and older readers get: English, as before."""
    with translation.override("en"):
        return str(say(said))
