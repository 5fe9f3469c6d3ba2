"""Page routes of cases (being built: see issue 6)."""

from __future__ import annotations

from django.urls import path

from config.pages import placeholder

app_name = "cases"
urlpatterns = [
    path("incidents/", placeholder, name="incidents"),
    path("risks/", placeholder, name="risks"),
]
