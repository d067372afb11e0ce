"""WSGI entry point (gunicorn nexiom.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexiom.settings")

application = get_wsgi_application()
