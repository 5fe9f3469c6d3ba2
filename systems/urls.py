"""Page routes of the system register and the suspension orders."""

from __future__ import annotations

from django.urls import path

from systems import views, views_inventory

app_name = "systems"
urlpatterns = [
    path("systems/", views.system_list, name="systems"),
    path("systems/new/", views.register, name="register"),
    path("systems/<int:pk>/", views.system_detail, name="system"),
    path("systems/<int:pk>/edit/", views.edit, name="edit"),
    path("systems/<int:pk>/suspend/", views.suspend, name="suspend"),
    path("suspensions/<int:pk>/lift/", views.lift, name="lift"),
    path("systems/<int:pk>/inventory/", views_inventory.inventory_history, name="inventory"),
    path("systems/<int:pk>/inventory/sbom/", views_inventory.upload_sbom, name="inventory-sbom"),
    path("systems/<int:pk>/inventory/add/", views_inventory.add_component, name="inventory-add"),
    path("components/<int:pk>/remove/", views_inventory.remove_component, name="component-remove"),
    path(
        "systems/<int:pk>/network/add/",
        views_inventory.add_network_identity,
        name="network-add",
    ),
    path(
        "network-identities/<int:pk>/end/",
        views_inventory.end_network_identity,
        name="network-end",
    ),
]
