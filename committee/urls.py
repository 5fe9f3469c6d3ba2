"""Page routes of committee (being built: see issue 6)."""

from __future__ import annotations

from django.urls import path

from config.pages import placeholder

app_name = "committee"
urlpatterns = [
    path("meetings/", placeholder, name="meetings"),
]
