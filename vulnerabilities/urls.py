"""Page routes of findings, the morning-of question, the CISO's deadlines and posture."""

from __future__ import annotations

from django.urls import path

from vulnerabilities import views, views_posture

app_name = "vulnerabilities"
urlpatterns = [
    path("findings/", views.finding_list, name="findings"),
    path("findings/<int:pk>/", views.finding_detail, name="finding"),
    path(
        "findings/<int:pk>/false-positive/",
        views.mark_false_positive,
        name="finding-false-positive",
    ),
    path("findings/<int:pk>/confirm/", views.confirm_finding, name="finding-confirm"),
    path("findings/<int:pk>/accept/", views.accept_risk, name="finding-accept"),
    path("exposure/", views.exposure, name="exposure"),
    path("exposure/directive/", views.exposure_directive, name="exposure-directive"),
    path("vulnerabilities/deadlines/", views.deadlines, name="deadlines"),
    path("vulnerabilities/posture/", views_posture.posture_page, name="posture"),
]
