"""The reliability settings, read back from the Celery app the workers use."""

from __future__ import annotations

from django.conf import settings

from nexiom.celery import app


def test_tasks_are_acknowledged_late_and_requeued_when_a_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True


def test_prefetch_is_bounded():
    assert app.conf.worker_prefetch_multiplier == 1


def test_visibility_timeout_outlasts_the_longest_countdown_plus_the_longest_run():
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    longest_wait = settings.CELERY_MAX_COUNTDOWN_SECONDS + app.conf.task_time_limit

    assert visibility > longest_wait
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit


def test_messages_are_json_only():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"


def test_every_registered_project_task_is_tenant_aware():
    from nexiom.celery import NexiomTask

    app.loader.import_default_modules()
    ours = [task for name, task in app.tasks.items() if not name.startswith("celery.")]

    assert ours, "no project tasks registered"
    assert all(isinstance(task, NexiomTask) for task in ours)
