"""Page routes of systems (being built: see issue 6)."""

from __future__ import annotations

from django.urls import path

from config.pages import placeholder

app_name = "systems"
urlpatterns = [
    path("systems/", placeholder, name="systems"),
]
