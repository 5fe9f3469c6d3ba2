"""App configuration for actions."""

from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "actions"
    verbose_name = "Actions and directives"

    def ready(self) -> None:
        # The codes this app's audit events store, named for the trail's readers.
        from actions.models import Action
        from audit.sentences import name_values

        name_values("action.", ("from", "to"), Action.Status.choices)
        name_values("action.", "priority", Action.Priority.choices)
