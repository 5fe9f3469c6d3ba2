"""Page routes of findings, the morning-of question, the CISO's deadlines and posture, scans,
the attack surface and discovered assets."""

from __future__ import annotations

from django.urls import path

from vulnerabilities import views, views_posture, views_scans

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
    path("scans/", views_scans.scan_list, name="scans"),
    path("scans/<int:pk>/", views_scans.scan_detail, name="scan"),
    path("scans/<int:pk>/progress/", views_scans.scan_progress, name="scan-progress"),
    path("attack-surface/", views_scans.attack_surface, name="attack-surface"),
    path("discovered-assets/", views_scans.asset_list, name="discovered-assets"),
    path("discovered-assets/<int:pk>/", views_scans.asset_detail, name="discovered-asset"),
    path(
        "discovered-assets/<int:pk>/assign/",
        views_scans.asset_assign,
        name="discovered-asset-assign",
    ),
    path(
        "discovered-assets/<int:pk>/dismiss/",
        views_scans.asset_dismiss,
        name="discovered-asset-dismiss",
    ),
    path(
        "discovered-assets/<int:pk>/attach/",
        views_scans.asset_attach,
        name="discovered-asset-attach",
    ),
]
