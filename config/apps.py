"""The admin app, with the site every model's admin is registered on (config/admin_site.py)."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    # A string: the site's module reads services and models, which are not loaded yet here.
    default_site = "config.admin_site.SiteAdmin"
