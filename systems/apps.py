"""App configuration for systems."""

from django.apps import AppConfig


class SystemsConfig(AppConfig):
    name = "systems"
    verbose_name = "IT systems"
