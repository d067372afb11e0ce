"""The beat schedule lives in the database (django-celery-beat).

Beat runs in its own process with its own autocommit connection, so the
scheduler is exercised on a thread of its own here, as it would run.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from nexiom.celery import app


def _on_own_connection(work):
    def run():
        try:
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=60)


def test_beat_uses_the_database_scheduler():
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert app.conf.beat_scheduler == settings.CELERY_BEAT_SCHEDULER


def test_schedule_is_written_to_and_read_from_the_database(db):
    names = _on_own_connection(lambda: set(DatabaseScheduler(app=app).schedule))

    assert "tenants.audit_schemas" in names
    row = PeriodicTask.objects.get(name="tenants.audit_schemas")
    assert row.task == "tenants.audit_schemas"
    assert (row.interval.every, row.interval.period) == (900, "seconds")
    assert row.enabled is True


def test_a_task_disabled_in_the_database_leaves_the_schedule(db):
    def disable_then_load():
        DatabaseScheduler(app=app)
        PeriodicTask.objects.filter(name="tenants.audit_schemas").update(enabled=False)
        try:
            return set(DatabaseScheduler(app=app).all_as_schedule())
        finally:
            PeriodicTask.objects.filter(name="tenants.audit_schemas").update(enabled=True)

    assert "tenants.audit_schemas" not in _on_own_connection(disable_then_load)
