"""Page routes of the system register and the suspension orders."""

from __future__ import annotations

from django.urls import path

from systems import views

app_name = "systems"
urlpatterns = [
    path("systems/", views.system_list, name="systems"),
    path("systems/new/", views.register, name="register"),
    path("systems/<int:pk>/", views.system_detail, name="system"),
    path("systems/<int:pk>/edit/", views.edit, name="edit"),
    path("systems/<int:pk>/suspend/", views.suspend, name="suspend"),
    path("suspensions/<int:pk>/lift/", views.lift, name="lift"),
]
