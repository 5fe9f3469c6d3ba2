"""App configuration for vulnerabilities: it rematches a system when its inventory changes."""

from typing import Any

from django.apps import AppConfig


class VulnerabilitiesConfig(AppConfig):
    name = "vulnerabilities"
    verbose_name = "Vulnerabilities"

    def ready(self) -> None:
        from audit.sentences import name_values
        from systems.inventory import inventory_changed
        from vulnerabilities.models import Finding, Priority

        inventory_changed.connect(_rematch, dispatch_uid="vulnerabilities.rematch")
        name_values("finding.", ("from", "state"), Finding.State.choices)
        name_values("vulnerabilities.deadline_set", "priority", Priority.choices)


def _rematch(sender: Any, *, system_ids: list[int], actor: Any, **kwargs: Any) -> None:
    """A system's inventory changed: its findings follow, in the same transaction."""
    from vulnerabilities.services.findings import rematch_systems

    rematch_systems(system_ids=system_ids, actor=actor)
