"""App configuration for committee."""

from django.apps import AppConfig


class CommitteeConfig(AppConfig):
    name = "committee"
    verbose_name = "Committee"

    def ready(self) -> None:
        # The codes this app's audit events store, named for the trail's readers.
        from django.utils.translation import gettext_lazy as _

        from accounts.models import Role
        from audit.sentences import name_values
        from committee.models import (
            Attendance,
            Ballot,
            CadenceException,
            Decision,
            WrittenResolution,
        )

        name_values("decision.recorded", "outcome", Decision.Outcome.choices)
        name_values("decision.recorded", "effect", Decision.Effect.choices)
        name_values(
            "decision.recorded",
            "capacity",
            [
                ("chair", Role.CHAIR.label),
                ("secretariat", Role.SECRETARY.label),
                ("written", _("Written resolution between meetings")),
            ],
        )
        name_values("meeting.attendance_recorded", ("from", "to"), Attendance.Status.choices)
        name_values("meeting.roster_amended", "kind", Attendance.Kind.choices)
        name_values("committee.cadence_exception", "kind", CadenceException.Kind.choices)
        name_values("resolution.", "effect", WrittenResolution.Effect.choices)
        name_values("resolution.", "outcome", WrittenResolution.Status.choices)
        name_values("resolution.", "choice", Ballot.Choice.choices)
        name_values(
            "resolution.",
            "capacity",
            [
                ("holder", _("Office holder")),
                ("acting", _("Acting delegate")),
                ("member", _("Member in person")),
            ],
        )
        # The tally's counts, each by name.
        name_values(
            "resolution.closed",
            "votes",
            [
                ("for", Ballot.Choice.FOR.label),
                ("against", Ballot.Choice.AGAINST.label),
                ("abstain", _("Abstaining")),
                ("conflicts", _("Abstaining for a conflict of interest")),
                ("voting", _("Voting seats")),
                ("needed", _("Needed for a quorum")),
            ],
        )
