"""Page routes of the audit trail."""

from __future__ import annotations

from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("audit/", views.event_list, name="events"),
    path("audit/verify/", views.verify, name="verify"),
]
