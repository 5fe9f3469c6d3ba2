"""Pages of incidents and risks: lists with filters and exports, report and register forms,
case pages with their lifecycle, horizontal roll-out of a measure, and the risk heat map."""

from cases.views.incidents import (
    incident,
    incident_columns,
    incident_measure,
    incident_new,
    incident_note,
    incident_root_cause,
    incident_severity,
    incident_transition,
    incidents,
    measure_rollout,
)
from cases.views.risks import (
    heatmap,
    risk,
    risk_columns,
    risk_new,
    risk_reassess,
    risk_transition,
    risks,
)

__all__ = [
    "heatmap",
    "incident",
    "incident_columns",
    "incident_measure",
    "incident_new",
    "incident_note",
    "incident_root_cause",
    "incident_severity",
    "incident_transition",
    "incidents",
    "measure_rollout",
    "risk",
    "risk_columns",
    "risk_new",
    "risk_reassess",
    "risk_transition",
    "risks",
]
