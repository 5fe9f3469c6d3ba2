"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

from config.requests import RefuseUndecodableCharset

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = RefuseUndecodableCharset(get_wsgi_application())
