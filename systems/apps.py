"""App configuration for systems."""

from django.apps import AppConfig


class SystemsConfig(AppConfig):
    name = "systems"
    verbose_name = "IT systems"

    def ready(self) -> None:
        # The codes this app's audit events store, named for the trail's readers.
        from audit.sentences import name_values
        from systems.models import System

        choices = {
            "environment": System.Environment.choices,
            "criticality": System.Criticality.choices,
            "status": System.Status.choices,
            "registration": System.Registration.choices,
        }
        for field, named in choices.items():
            name_values("system.", field, named)
            # a directive's or a measure's criteria, over the register's own fields
            name_values("", "criteria", named)
        name_values("system.retired", "from", System.Status.choices)
