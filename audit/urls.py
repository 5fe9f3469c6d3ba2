"""Page routes of audit (being built: see issue 6)."""

from __future__ import annotations

from django.urls import path

from config.pages import placeholder

app_name = "audit"
urlpatterns = [
    path("audit/", placeholder, name="events"),
]
