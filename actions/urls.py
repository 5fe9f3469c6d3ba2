"""Page routes of actions, directives and a unit's workload."""

from __future__ import annotations

from django.urls import path

from actions import views

app_name = "actions"
urlpatterns = [
    path("actions/", views.action_list, name="actions"),
    path("actions/<int:pk>/", views.action_detail, name="action"),
    path("actions/<int:pk>/updates/", views.action_update, name="action-update"),
    path("actions/<int:pk>/replan/", views.action_replan, name="action-replan"),
    path("actions/<int:pk>/assign/", views.action_assign, name="action-assign"),
    path("actions/<int:pk>/evidence/<int:evidence_pk>/", views.evidence_file, name="evidence"),
    path("actions/<int:pk>/<slug:act>/", views.action_act, name="action-act"),
    path("units/<slug:code>/workload/", views.unit_workload, name="unit-workload"),
    path("directives/", views.directive_list, name="directives"),
    path("directives/new/", views.directive_new, name="directive-new"),
    path("directives/<int:pk>/", views.directive_detail, name="directive"),
    path("directives/<int:pk>/issue/", views.directive_issue, name="directive-issue"),
    path("directives/<int:pk>/withdraw/", views.directive_withdraw, name="directive-withdraw"),
]
