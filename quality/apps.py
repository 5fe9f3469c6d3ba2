"""App configuration for quality."""

from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Quality"

    def ready(self) -> None:
        # The codes this app's audit events store, named for the trail's readers.
        from audit.sentences import name_values
        from quality.models import Indicator, Phase, Rag, ReleaseDecision, Review

        name_values("project.", ("from", "to", "phase"), Phase.choices)
        name_values("project.", "verdict", Review.Verdict.choices)
        name_values("project.release_decided", "outcome", ReleaseDecision.Outcome.choices)
        name_values("project.", "rag", Rag.choices)
        # ratings map each indicator to its colour: both are named
        name_values("project.", "ratings", [*Indicator.choices, *Rag.choices])
        name_values("project.", ("red", "trending"), Indicator.choices)
        name_values("quality.threshold_set", "indicator", Indicator.choices)
        name_values("quality.threshold_set", ("from", "to"), Rag.choices)
