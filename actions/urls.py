"""Page routes of actions (being built: see issue 6)."""

from __future__ import annotations

from django.urls import path

from config.pages import placeholder

app_name = "actions"
urlpatterns = [
    path("actions/", placeholder, name="actions"),
    path("directives/", placeholder, name="directives"),
]
