"""Pytest plugin loaded before Django starts: test-only environment defaults."""

from __future__ import annotations

import os

# The suite needs a key to sign sessions; production refuses to start without a real one.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-never-used-in-production")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
