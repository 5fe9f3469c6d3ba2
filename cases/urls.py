"""Page routes of cases: incidents, risks and the risk heat map."""

from __future__ import annotations

from django.urls import path

from cases import views

app_name = "cases"
urlpatterns = [
    path("incidents/", views.incidents, name="incidents"),
    path("incidents/new/", views.incident_new, name="incident-new"),
    path("incidents/<int:pk>/", views.incident, name="incident"),
    path("incidents/<int:pk>/transition/", views.incident_transition, name="incident-transition"),
    path("incidents/<int:pk>/timeline/", views.incident_note, name="incident-note"),
    path("incidents/<int:pk>/severity/", views.incident_severity, name="incident-severity"),
    path("incidents/<int:pk>/root-cause/", views.incident_root_cause, name="incident-root-cause"),
    path("incidents/<int:pk>/measures/", views.incident_measure, name="incident-measure"),
    path(
        "incidents/<int:pk>/measures/<int:measure>/roll-out/",
        views.measure_rollout,
        name="measure-rollout",
    ),
    path("risks/", views.risks, name="risks"),
    path("risks/new/", views.risk_new, name="risk-new"),
    path("risks/heatmap/", views.heatmap, name="heatmap"),
    path("risks/<int:pk>/", views.risk, name="risk"),
    path("risks/<int:pk>/reassess/", views.risk_reassess, name="risk-reassess"),
    path("risks/<int:pk>/transition/", views.risk_transition, name="risk-transition"),
]
