"""How an audit event reads to a person: a sentence per verb and its details as named rows,
composed when it is shown, in the reader's language (the event itself stays as recorded)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from audit.models import AuditEvent


@dataclass(frozen=True)
class Verb:
    """What a verb means to a reader: a short name (the trail's filter) and a sentence.
    In the sentence, %(actor)s is who acted (with the office they acted under), %(target)s
    what the event is about, as recorded; any other name is one of the event's details."""

    name: StrOrPromise
    sentence: StrOrPromise


# Every verb the code records (tests/audit/test_sentences.py keeps this list complete).
VERBS: dict[str, Verb] = {
    # Signing in, and who may act (accounts)
    "auth.login": Verb(_("Signed in"), _("%(actor)s signed in")),
    "auth.logout": Verb(_("Signed out"), _("%(actor)s signed out")),
    "auth.login_failed": Verb(_("Sign-in failed"), _("A sign-in as %(username)s failed")),
    "auth.locked_out": Verb(
        _("Sign-in refused: account locked"),
        _("A sign-in as %(username)s was refused: too many failed attempts"),
    ),
    "auth.address_throttled": Verb(
        _("Sign-ins from an address held back"),
        _("Sign-ins from %(ip)s were held back after %(failures)s wrong passwords"),
    ),
    "auth.password_changed": Verb(_("Password changed"), _("%(actor)s changed their password")),
    "auth.password_reset": Verb(_("Password reset"), _("%(actor)s reset their password")),
    "auth.session_expired": Verb(
        _("Session expired"), _("%(actor)s was signed out: the session expired")
    ),
    "authz.refused": Verb(_("Act refused"), _("%(actor)s was refused: %(reason)s")),
    "mfa.enrolled": Verb(
        _("Authenticator added"), _("%(actor)s added an authenticator (%(type)s)")
    ),
    "mfa.removed": Verb(
        _("Authenticator removed"), _("%(actor)s removed an authenticator (%(type)s)")
    ),
    "mfa.reset": Verb(_("Authenticator reset"), _("%(actor)s reset an authenticator (%(type)s)")),
    "mfa.verified": Verb(
        _("Second sign-in step passed"),
        _("%(actor)s passed the second sign-in step (%(type)s)"),
    ),
    "mfa.failed": Verb(
        _("Second sign-in step failed"),
        _("%(actor)s failed the second sign-in step (%(type)s)"),
    ),
    "api_token.issued": Verb(
        _("API token issued"), _("%(actor)s issued an API token to %(target)s")
    ),
    "api_token.revoked": Verb(
        _("API token revoked"), _("%(actor)s revoked an API token of %(target)s")
    ),
    "office.delegated": Verb(
        _("Office delegated"), _("%(actor)s delegated office %(office)s to %(delegate)s")
    ),
    "office.delegation_revoked": Verb(
        _("Delegation revoked"), _("%(actor)s revoked a delegation of office %(office)s")
    ),
    "office.holder_changed": Verb(
        _("Office holder changed"), _("%(actor)s changed the holder of office %(target)s")
    ),
    "unit.access_changed": Verb(
        _("Unit access changed"), _("The access of business unit %(target)s changed")
    ),
    "account.language_set": Verb(
        _("Language chosen"), _("%(actor)s chose %(to)s as the language to read in")
    ),
    "unit.member_added": Verb(
        _("Unit member added"), _("%(actor)s added %(user)s to business unit %(target)s")
    ),
    # The trail itself
    "audit.verified": Verb(
        _("Audit chain verified"),
        _("The daily check found the audit chain intact: %(checked)s events"),
    ),
    "audit.broken": Verb(
        _("Audit chain found broken"),
        _("The daily check found the audit chain broken at event #%(broken_at)s"),
    ),
    # The system register
    "system.registered": Verb(_("System registered"), _("%(actor)s registered system %(target)s")),
    "system.changed": Verb(
        _("System details changed"),
        _("%(actor)s changed the register entry of system %(target)s"),
    ),
    "system.suspended": Verb(_("System suspended"), _("%(actor)s suspended system %(target)s")),
    "system.reinstated": Verb(
        _("Suspension lifted"), _("%(actor)s lifted the suspension of system %(target)s")
    ),
    "system.retired": Verb(_("System retired"), _("%(actor)s retired system %(target)s")),
    "system.moved": Verb(
        _("System moved to another unit"),
        _("%(actor)s moved system %(target)s from %(from)s to %(to)s"),
    ),
    "suspension.ratified": Verb(
        _("Suspension ratified"),
        _(
            "%(actor)s recorded that the committee ratified the suspension of system "
            "%(target)s (decision %(decision)s)"
        ),
    ),
    "suspension.overturned": Verb(
        _("Suspension overturned"),
        _(
            "%(actor)s recorded that the committee overturned the suspension of system "
            "%(target)s (decision %(decision)s)"
        ),
    ),
    # Actions and directives
    "action.created": Verb(
        _("Action created"), _("%(actor)s created action %(target)s for %(unit)s")
    ),
    "action.in_progress": Verb(
        _("Action started"), _("%(actor)s started work on action %(target)s")
    ),
    "action.submitted": Verb(
        _("Action submitted for verification"),
        _("%(actor)s submitted action %(target)s for verification"),
    ),
    "action.verified": Verb(_("Action verified"), _("%(actor)s verified action %(target)s")),
    "action.returned": Verb(
        _("Action returned"), _("%(actor)s returned action %(target)s for more work")
    ),
    "action.cancelled": Verb(_("Action cancelled"), _("%(actor)s cancelled action %(target)s")),
    "action.updated": Verb(
        _("Action progress reported"), _("%(actor)s reported progress on action %(target)s")
    ),
    "action.replanned": Verb(_("Action re-planned"), _("%(actor)s re-planned action %(target)s")),
    "action.assigned": Verb(
        _("Action assigned"), _("%(actor)s assigned action %(target)s within %(unit)s")
    ),
    "directive.drafted": Verb(_("Directive drafted"), _("%(actor)s drafted directive %(target)s")),
    "directive.issued": Verb(_("Directive issued"), _("%(actor)s issued directive %(target)s")),
    "directive.withdrawn": Verb(
        _("Directive withdrawn"), _("%(actor)s withdrew directive %(target)s")
    ),
    "directive.completed": Verb(
        _("Directive completed"),
        _("Directive %(target)s is completed: all its actions are verified"),
    ),
    # Incidents and risks
    "incident.reported": Verb(_("Incident reported"), _("%(actor)s reported incident %(target)s")),
    "incident.triaged": Verb(_("Incident triaged"), _("%(actor)s triaged incident %(target)s")),
    "incident.investigated": Verb(
        _("Incident investigation started"),
        _("%(actor)s started investigating incident %(target)s"),
    ),
    "incident.contained": Verb(
        _("Incident contained"), _("%(actor)s marked incident %(target)s contained")
    ),
    "incident.resolved": Verb(
        _("Incident resolved"), _("%(actor)s marked incident %(target)s resolved")
    ),
    "incident.closed": Verb(_("Incident closed"), _("%(actor)s closed incident %(target)s")),
    "incident.reopened": Verb(_("Incident reopened"), _("%(actor)s reopened incident %(target)s")),
    "incident.severity_changed": Verb(
        _("Incident severity changed"),
        _("%(actor)s changed the severity of incident %(target)s from %(from)s to %(to)s"),
    ),
    "incident.changed": Verb(
        _("Incident details changed"), _("%(actor)s changed the details of incident %(target)s")
    ),
    "incident.noted": Verb(
        _("Incident note added"), _("%(actor)s added a note to incident %(target)s")
    ),
    "incident.measure_added": Verb(
        _("Recurrence-prevention measure added"),
        _("%(actor)s added a recurrence-prevention measure to incident %(target)s"),
    ),
    "incident.measure_rolled_out": Verb(
        _("Recurrence-prevention measure rolled out"),
        _(
            "%(actor)s rolled out a recurrence-prevention measure of incident %(target)s "
            "as directive %(directive)s"
        ),
    ),
    "risk.registered": Verb(_("Risk registered"), _("%(actor)s registered risk %(target)s")),
    "risk.reassessed": Verb(_("Risk reassessed"), _("%(actor)s reassessed risk %(target)s")),
    "risk.assessed": Verb(_("Risk assessed"), _("%(actor)s marked risk %(target)s assessed")),
    "risk.treating": Verb(
        _("Risk treatment started"), _("%(actor)s started treating risk %(target)s")
    ),
    "risk.monitored": Verb(
        _("Risk moved to monitoring"), _("%(actor)s moved risk %(target)s to monitoring")
    ),
    "risk.retired": Verb(_("Risk retired"), _("%(actor)s retired risk %(target)s")),
    "risk.accepted": Verb(
        _("Risk accepted"),
        _(
            "%(actor)s recorded the acceptance of risk %(target)s above appetite "
            "(decision %(decision)s)"
        ),
    ),
    "risk_matrix.changed": Verb(
        _("Risk matrix changed"), _("%(actor)s changed a cell of the risk matrix (%(target)s)")
    ),
    # The committee
    "committee.cadence_exception": Verb(
        _("Exception to the meeting schedule"),
        _("%(actor)s made an exception to the schedule of %(target)s for %(date)s"),
    ),
    "calendar_feed.created": Verb(
        _("Calendar feed created"), _("%(actor)s created a calendar feed")
    ),
    "calendar_feed.revoked": Verb(
        _("Calendar feed revoked"), _("%(actor)s revoked a calendar feed")
    ),
    "agenda.assembled": Verb(
        _("Agenda assembled"), _("%(actor)s added %(added)s items to the agenda of %(target)s")
    ),
    "agenda.item_added": Verb(
        _("Agenda item added"),
        _("%(actor)s added the item “%(title)s” to the agenda of %(target)s"),
    ),
    "agenda.item_removed": Verb(
        _("Agenda item removed"),
        _("%(actor)s removed the item “%(title)s” from the agenda of %(target)s"),
    ),
    "agenda.reordered": Verb(
        _("Agenda reordered"), _("%(actor)s reordered the agenda of %(target)s")
    ),
    "agenda.item_discussed": Verb(
        _("Agenda item discussed"), _("%(actor)s marked an item of %(target)s discussed")
    ),
    "meeting.agenda_published": Verb(
        _("Agenda published"), _("%(actor)s published the agenda of %(target)s")
    ),
    "meeting.rescheduled": Verb(
        _("Meeting rescheduled"), _("%(actor)s moved %(target)s from %(from)s to %(to)s")
    ),
    "meeting.cancelled": Verb(_("Meeting cancelled"), _("%(actor)s cancelled %(target)s")),
    "meeting.held": Verb(_("Meeting held"), _("%(actor)s marked %(target)s as held")),
    "meeting.attendance_recorded": Verb(
        _("Attendance recorded"), _("%(actor)s recorded attendance at %(target)s")
    ),
    "meeting.roster_amended": Verb(
        _("Roster amended"), _("%(actor)s added a person to the roster of %(target)s")
    ),
    "minutes.drafted": Verb(_("Minutes drafted"), _("%(actor)s drafted the minutes of %(target)s")),
    "minutes.revised": Verb(
        _("Minutes revised"),
        _("%(actor)s revised the minutes of %(target)s (version %(version)s)"),
    ),
    "minutes.approved": Verb(
        _("Minutes approved"), _("%(actor)s approved the minutes of %(target)s")
    ),
    "minutes.corrected": Verb(
        _("Minutes corrected"), _("%(actor)s recorded a correction to the minutes of %(target)s")
    ),
    "decision.recorded": Verb(_("Decision recorded"), _("%(actor)s recorded decision %(target)s")),
    "resolution.opened": Verb(
        _("Written resolution opened"),
        _("%(actor)s put written resolution %(target)s to the members"),
    ),
    "resolution.vote_cast": Verb(
        _("Vote cast on a written resolution"),
        _("%(actor)s voted on written resolution %(target)s for the %(seat)s seat"),
    ),
    "resolution.closed": Verb(
        _("Written resolution closed"),
        _("Written resolution %(target)s closed: %(outcome)s"),
    ),
    # Quality
    "project.registered": Verb(
        _("Project registered"), _("%(actor)s registered project %(target)s")
    ),
    "project.phase_advanced": Verb(
        _("Project moved to its next phase"),
        _("%(actor)s moved project %(target)s from %(from)s to %(to)s"),
    ),
    "project.reviewed": Verb(
        _("Project reviewed"),
        _("%(actor)s recorded the %(phase)s review of project %(target)s: %(verdict)s"),
    ),
    "project.release_decided": Verb(
        _("Release decided"),
        _("%(actor)s decided the release of project %(target)s: %(outcome)s"),
    ),
    "project.reported": Verb(
        _("Monthly report submitted"),
        _("%(actor)s submitted the %(period)s report of project %(target)s, rated %(rag)s"),
    ),
    "project.report_corrected": Verb(
        _("Monthly report corrected"),
        _("%(actor)s corrected the %(period)s report of project %(target)s"),
    ),
    "project.flagged": Verb(
        _("Project flagged"),
        _(
            "Project %(target)s was flagged to the CQO and the committee after a report by %(actor)s"
        ),
    ),
    "project.flag_restated": Verb(
        _("Project flag restated"),
        _("The flag on project %(target)s was restated after a report by %(actor)s"),
    ),
    "project.flag_reopened": Verb(
        _("Project flag reopened"),
        _("The flag on project %(target)s was reopened after a report by %(actor)s"),
    ),
    "project.flag_cleared": Verb(
        _("Project flag cleared"),
        _("The flag on project %(target)s was cleared by a healthy report from %(actor)s"),
    ),
    "project.flag_withdrawn": Verb(
        _("Project flag withdrawn"),
        _(
            "The flag on project %(target)s was withdrawn: %(actor)s corrected the report "
            "that raised it"
        ),
    ),
    "quality.threshold_set": Verb(
        _("Quality threshold set"), _("%(actor)s set the rating thresholds of %(indicator)s")
    ),
    # Software inventory and network identities (systems)
    "system.components_added": Verb(
        _("Components added"), _("%(actor)s added software to the inventory of %(target)s")
    ),
    "system.components_removed": Verb(
        _("Component removed"), _("%(actor)s took %(component)s off the inventory of %(target)s")
    ),
    "system.inventory_replaced": Verb(
        _("Inventory replaced"), _("%(actor)s replaced the software inventory of %(target)s")
    ),
    "system.sbom_uploaded": Verb(
        _("SBOM uploaded"), _("%(actor)s uploaded an SBOM of %(subject)s for %(target)s")
    ),
    "system.network_identity_added": Verb(
        _("Network identity added"), _("%(actor)s said %(target)s is known as %(value)s")
    ),
    "system.network_identity_ended": Verb(
        _("Network identity ended"),
        _("%(actor)s said %(target)s is no longer known as %(value)s"),
    ),
    "findings.matched": Verb(
        _("Findings matched"),
        _("Matching changed the vulnerability findings of %(systems)s systems"),
    ),
    "actions.issued_on_rule": Verb(
        _("Remediation work issued"),
        _("%(count)s actions issued under the %(office)s's remediation deadlines"),
    ),
    "system.findings_matched": Verb(
        _("Findings matched"), _("Matching changed the vulnerability findings of %(target)s")
    ),
    # Vulnerabilities
    "advisories.imported": Verb(
        _("Advisories imported"), _("%(actor)s imported the %(kind)s feed %(origin)s")
    ),
    "vulnerability.merged": Verb(
        _("Vulnerabilities merged"), _("%(merged)s proved to be %(target)s: one vulnerability")
    ),
    "finding.merged": Verb(
        _("Finding merged"), _("Finding %(target)s is the same as one of %(into)s")
    ),
    "finding.false_positive": Verb(
        _("Finding marked false positive"), _("%(actor)s marked %(target)s a false positive")
    ),
    "finding.confirmed": Verb(
        _("Finding confirmed"), _("%(actor)s confirmed %(target)s after review")
    ),
    "finding.accepted": Verb(
        _("Vulnerability risk accepted"),
        _("%(actor)s accepted the risk of %(target)s until %(until)s"),
    ),
    "finding.acceptance_expired": Verb(
        _("Risk acceptance expired"), _("The acceptance of %(target)s expired; it is open again")
    ),
    "scan.received": Verb(
        _("Scan received"), _("%(actor)s uploaded the %(format)s report %(target)s")
    ),
    "scan.imported": Verb(_("Scan imported"), _("The report %(target)s was imported")),
    "scan.refused": Verb(_("Scan refused"), _("The report %(target)s was refused: %(error)s")),
    "discovered_asset.assigned": Verb(
        _("Discovered asset assigned"), _("%(actor)s assigned %(target)s to %(unit)s")
    ),
    "discovered_asset.dismissed": Verb(
        _("Discovered asset dismissed"), _("%(actor)s dismissed %(target)s (%(reason)s)")
    ),
    "discovered_asset.attached": Verb(
        _("Discovered asset attached"), _("%(actor)s attached %(target)s to %(system)s")
    ),
    "vulnerabilities.deadline_set": Verb(
        _("Remediation deadline set"),
        _("%(actor)s set the days to fix a %(priority)s finding to %(days)s"),
    ),
}

# A verb this list does not know yet (recorded by newer code, or by a test) still reads as
# a sentence: its words, without the dots and underscores.
UNKNOWN = _("%(actor)s recorded “%(what)s” on %(target)s")
UNKNOWN_WITHOUT_TARGET = _("%(actor)s recorded “%(what)s”")
NO_ACTOR = _("The application")  # a scheduled job, or a request nobody had signed in to
ACTOR_AS_OFFICE = _("%(person)s (%(office)s)")

# The details' names, as a reader knows them; a verb may name one of its own differently.
FIELDS: dict[str, StrOrPromise] = {
    "above_appetite": _("Above appetite"),
    "actions": _("Actions"),
    "actual_cost": _("Actual cost"),
    "added": pgettext_lazy("audit detail", "Added"),
    "after_publication": _("Added after publication"),
    "assignee": _("Assignee"),
    "attendees": _("Attendees"),
    "broken_at": _("Broken at event"),
    "budget": _("Budget at completion"),
    "cancelled_actions": _("Actions cancelled"),
    "capacity": _("Recorded as"),
    "case": _("Incident"),
    "category": _("Category"),
    "chair": _("Chair"),
    "changed": _("Figures changed"),
    "checked": _("Events checked"),
    "choice": pgettext_lazy("audit detail", "Vote"),
    "committee": _("Committee"),
    "conditions": _("Conditions"),
    "conflict": _("Conflict of interest declared"),
    "correction": pgettext_lazy("audit detail", "Correction"),
    "corrects": _("Corrects"),
    "criteria": _("Criteria"),
    "criticality": _("Criticality"),
    "criticality_at_least": _("Criticality at least"),
    "date": pgettext_lazy("audit detail", "Date"),
    "deadline": pgettext_lazy("audit detail", "Deadline"),
    "decision": _("Decision"),
    "decisions": _("Decisions"),
    "defects_build": _("Defects found in build"),
    "defects_design": _("Defects found in design"),
    "defects_planning": _("Defects found in planning"),
    "defects_release": _("Defects found after release"),
    "defects_test": _("Defects found in test"),
    "delegate": pgettext_lazy("audit detail", "Delegate"),
    "description": _("Description"),
    "directive": _("Directive"),
    "domain": _("Domain"),
    "due_on": _("Due date"),
    "earned_value": _("Earned value"),
    "effect": _("Effect"),
    "ends_at": pgettext_lazy("audit detail", "Ends"),
    "entry": pgettext_lazy("audit detail", "Timeline entry"),
    "environment": _("Environment"),
    "expires": pgettext_lazy("audit detail", "Expires"),
    "failures": _("Failed attempts"),
    "files": _("Evidence files"),
    "findings": _("Findings"),
    "flag": pgettext_lazy("audit detail", "Flag"),
    "from": pgettext_lazy("audit detail", "Before"),
    "handles_personal_data": _("Handles personal data"),
    "impact": _("Impact"),
    "indicator": _("Indicator"),
    "inherent": _("Inherent"),
    "internet_facing": _("Internet-facing"),
    "ip": _("IP address"),
    "item": pgettext_lazy("audit detail", "Agenda item"),
    "items": pgettext_lazy("audit detail", "Agenda items"),
    "kind": pgettext_lazy("audit detail", "Kind"),
    "likelihood": _("Likelihood"),
    "measure": _("Measure"),
    "meeting": _("Meeting"),
    "method": pgettext_lazy("audit detail", "Request method"),
    "mfa_enforced": _("MFA enforced"),
    "moved_to": pgettext_lazy("audit detail", "Moved to"),
    "name": _("Name"),
    "note": _("Note"),
    "office": _("Office"),
    "order": _("Order"),  # a suspension order
    "outcome": _("Outcome"),
    "override_reason": _("Override reason"),
    "owning_cxo": pgettext_lazy("audit detail", "Owning CxO"),
    "owning_office": _("Owning office"),
    "path": pgettext_lazy("audit detail", "Page"),
    "percent_complete": _("Percent complete"),
    "percent_done": _("Percent done"),
    "period": _("Report period"),
    "person": _("Person"),
    "personal_data": _("Personal data"),
    "personal_data_involved": _("Personal data involved"),
    "phase": _("Phase"),
    "planned_value": _("Planned value"),
    "problem": pgettext_lazy("audit detail", "Problem"),
    "project": _("Project"),
    "quorum": pgettext_lazy("audit detail", "Quorum"),
    "rag": _("Rating"),
    "ratings": pgettext_lazy("audit detail", "Ratings by indicator"),
    "reason": _("Reason"),
    "red": pgettext_lazy("audit detail", "Rated red"),
    "registration": _("Registration"),
    "removed": pgettext_lazy("audit detail", "Removed"),
    "report": pgettext_lazy("audit detail", "Report"),
    "residual": _("Residual"),
    "residual_impact": _("Impact (residual)"),
    "residual_likelihood": _("Likelihood (residual)"),
    "residual_score": _("Residual score"),
    "resolution": _("Written resolution"),
    "review": pgettext_lazy("audit detail", "Review"),
    "root_cause": _("Root cause"),
    "seat": pgettext_lazy("audit detail", "Seat"),
    "seats": pgettext_lazy("audit detail", "Voting seats"),
    "severity": _("Severity"),
    "size": pgettext_lazy("audit detail", "Size"),
    "starts_at": pgettext_lazy("audit detail", "Starts"),
    "status": _("Status"),
    "step": pgettext_lazy("audit detail", "Sign-in step"),
    "suspension": pgettext_lazy("audit detail", "Suspension order"),
    "system": _("System"),
    "tests_planned": _("Tests planned"),
    "tests_run": _("Tests run"),
    "text": pgettext_lazy("audit detail", "Text"),
    "title": _("Title"),
    "to": pgettext_lazy("audit detail", "After"),
    "token_key": pgettext_lazy("audit detail", "Token"),
    "treatment": _("Treatment"),
    "trending": pgettext_lazy("audit detail", "Falling three periods running"),
    "type": pgettext_lazy("audit detail", "Authenticator"),
    "unit": _("Business unit"),
    "units": _("Business units"),
    "unsealed": _("Events waiting to be sealed"),
    "update": pgettext_lazy("audit detail", "Progress update"),
    "user": _("Person"),
    "user_agent": pgettext_lazy("audit detail", "Browser"),
    "username": pgettext_lazy("audit detail", "User name"),
    "verdict": _("Verdict"),
    "version": pgettext_lazy("audit detail", "Version"),
    "votes": pgettext_lazy("audit detail", "Votes"),
}
VERB_FIELDS: dict[tuple[str, str], StrOrPromise] = {
    ("agenda.reordered", "order"): pgettext_lazy("audit detail", "Order of the items"),
    ("meeting.roster_amended", "added"): _("Person"),
}

# Values the services store as codes (a status, a kind), named by the app that owns them:
# (verb or "noun.", detail) → code → label. Filled by each app's AppConfig.ready(), since
# the trail, at the bottom of the layers, imports none of them.
_VALUES: dict[tuple[str, str], dict[str, StrOrPromise]] = {}


def name_values(
    scope: str, fields: str | Iterable[str], choices: Iterable[tuple[Any, StrOrPromise]]
) -> None:
    """Name the codes stored under some details: `scope` is one verb ("decision.recorded"),
    every verb of a noun ("action."), or "" for every verb."""
    labels = {str(value): label for value, label in choices}
    for field in [fields] if isinstance(fields, str) else fields:
        _VALUES.setdefault((scope, field), {}).update(labels)


def _scopes(verb: str) -> tuple[str, str, str]:
    return verb, verb.partition(".")[0] + ".", ""


def _value_label(verb: str, field: str, value: str) -> StrOrPromise | None:
    for scope in _scopes(verb):
        label = _VALUES.get((scope, field), {}).get(value)
        if label is not None:
            return label
    return None


def field_label(verb: str, field: str) -> str:
    for scope in _scopes(verb)[:2]:
        if (scope, field) in VERB_FIELDS:
            return str(VERB_FIELDS[scope, field])
    if field in FIELDS:
        return str(FIELDS[field])
    return field.replace("_", " ").capitalize()


def verb_name(verb: str) -> str:
    """The short name of a verb, for a list of them."""
    known = VERBS.get(verb)
    return str(known.name) if known else _words(verb).capitalize()


def _words(verb: str) -> str:
    return re.sub(r"[._]+", " ", verb).strip()


# ISO dates and moments, as the services store them (isoformat(), or str() of a datetime).
_ISO_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


def _moment(text: str) -> str | None:
    if not _ISO_MOMENT.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) == 10:
        return formats.date_format(date.fromisoformat(text), "SHORT_DATE_FORMAT")
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "SHORT_DATETIME_FORMAT")


def value_text(verb: str, field: str, value: Any) -> str:  # noqa: PLR0911 - one per JSON type
    """A detail's value as a reader reads it: codes named, moments in local time, yes or no."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list):
        return ", ".join(value_text(verb, field, item) for item in value) or "—"
    if isinstance(value, Mapping):
        if set(value) == {"from", "to"}:
            before, after = (
                value_text(verb, field, value["from"]),
                value_text(verb, field, value["to"]),
            )
            return f"{before} → {after}"
        return "; ".join(
            f"{_key_text(verb, field, str(key))}: {value_text(verb, field, item)}"
            for key, item in value.items()
        )
    text = str(value)
    label = _value_label(verb, field, text)
    if label is not None:
        return str(label)
    return _moment(text) or text


def _key_text(verb: str, field: str, key: str) -> str:
    """A key inside a detail: a code of the detail's own (an indicator) or a field's name."""
    label = _value_label(verb, field, key)
    return str(label) if label is not None else field_label(verb, key)


def _shown(value: Any) -> bool:
    return value is not None and value not in ("", [], {})


# Details kept for the record (the API and exports carry them) that mean nothing to a reader:
# internal keys, where the sentence and the other rows already say what happened.
UNSHOWN = {("agenda.assembled", "items")}


def detail_rows(event: AuditEvent) -> list[tuple[str, str]]:
    """The event's details as (name, value) rows; empty ones (no note given, no case) are
    left out."""
    details = event.details if isinstance(event.details, Mapping) else {"details": event.details}
    return [
        (field_label(event.verb, str(field)), value_text(event.verb, str(field), value))
        for field, value in details.items()
        if _shown(value) and (event.verb, str(field)) not in UNSHOWN
    ]


class _Values(dict[str, Any]):
    """The sentence's values: a name the event does not have (a translation that names one
    by mistake, an event from older code) reads as a dash rather than failing the page."""

    def __missing__(self, key: str) -> str:
        return "—"


def _actor(event: AuditEvent) -> str:
    person = event.actor_label or str(NO_ACTOR)
    if event.office:
        return str(ACTOR_AS_OFFICE) % {"person": person, "office": event.office}
    return person


def _parts(event: AuditEvent) -> tuple[str, _Values]:
    details = event.details if isinstance(event.details, Mapping) else {}
    values = _Values(
        {str(k): value_text(event.verb, str(k), v) for k, v in details.items()},
    )
    values.update(actor=_actor(event), target=event.target_label or "—", what=_words(event.verb))
    known = VERBS.get(event.verb)
    if known is not None:
        template = str(known.sentence)
    else:
        template = str(UNKNOWN if event.target_label else UNKNOWN_WITHOUT_TARGET)
    return template, values


def _fill(template: str, values: Mapping[str, Any]) -> str:
    try:
        return template % values
    except (ValueError, TypeError, KeyError):
        # A translation with a broken placeholder: the English words still say what happened.
        return str(UNKNOWN) % values


def sentence(event: AuditEvent) -> str:
    """What happened, in one sentence in the reader's language (plain text: exports, API)."""
    template, values = _parts(event)
    return _fill(template, values)


def sentence_html(event: AuditEvent, *, href: str | None = None) -> SafeString:
    """The sentence for a page: every value escaped, and the target a link where it has one."""
    template, values = _parts(event)
    escaped = _Values({key: conditional_escape(value) for key, value in values.items()})
    if href:
        escaped["target"] = format_html('<a href="{}">{}</a>', href, values["target"])
    # The template and every value are escaped above: nothing a person typed is marked safe.
    return mark_safe(_fill(str(conditional_escape(template)), escaped))  # noqa: S308  # nosec B308 B703
