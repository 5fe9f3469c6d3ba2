"""App configuration for cases."""

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        # The codes this app's audit events store, named for the trail's readers.
        from audit.sentences import name_values
        from cases.models import Incident, Risk, RiskLevel, Severity

        name_values("incident.", ("from", "to"), Incident.Status.choices)
        name_values("incident.severity_changed", ("from", "to"), Severity.choices)
        name_values("incident.", "severity", Severity.choices)
        name_values("incident.", "category", Incident.Category.choices)
        name_values("risk.", ("from", "to"), Risk.Status.choices)
        name_values("risk.", "treatment", Risk.Treatment.choices)
        name_values("risk.", ("inherent", "residual"), RiskLevel.choices)
        name_values("risk_matrix.", ("from", "to"), RiskLevel.choices)
