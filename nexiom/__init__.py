"""Nexiom project package: settings, URLconfs, the Celery app, WSGI."""

from nexiom.celery import app as celery_app

__all__ = ["celery_app"]
