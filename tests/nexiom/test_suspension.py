"""Suspension stops a tenant's tasks at once and loses none of them.

A real worker (in this process, on the real Redis) with the production
tenant cache (30 s): the worker has just cached tenant alpha as active
when it is suspended. Everything here is committed (autocommit), because
the worker reads the database on its own connection.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from nexiom import settings as production_settings
from nexiom.celery import app
from tenants.models import ParkedTask, Tenant
from tenants.services import tenant_status_set
from tenants.tasks import release_parked_tasks

RUNS_KEY = "tests:suspension:runs:{}"


@app.task(name="tests.suspension_probe", ignore_result=False)
def suspension_probe(token: str) -> str:
    redis.Redis.from_url(settings.CELERY_BROKER_URL).incr(RUNS_KEY.format(token))
    return connection.schema_name


def runs(token: str) -> int:
    return int(redis.Redis.from_url(settings.CELERY_BROKER_URL).get(RUNS_KEY.format(token)) or 0)


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    queue = f"tests-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    saved_cache = app.conf.task_tenant_cache_seconds
    # What production workers run with, whatever the test settings say.
    app.conf.task_tenant_cache_seconds = production_settings.CELERY_TASK_TENANT_CACHE_SECONDS
    assert app.conf.task_tenant_cache_seconds == 30
    with (
        django_db_blocker.unblock(),
        start_worker(app, pool="solo", perform_ping_check=False, queues=[queue]) as w,
    ):
        yield w
    app.conf.task_tenant_cache_seconds = saved_cache
    app.conf.task_default_queue = "celery"


@pytest.fixture
def alpha(worker, django_db_blocker):
    """Tenant alpha, committed; left active with nothing parked."""
    with django_db_blocker.unblock():
        tenant = Tenant.objects.get(slug="alpha")
        yield tenant
        Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.ACTIVE)
        ParkedTask.objects.all().delete()


def send_probe(tenant: Tenant, token: str):
    with schema_context(tenant.schema_name):
        return suspension_probe.delay(token)


def drain(tenant: Tenant) -> None:
    """The solo worker runs in order: once this sentinel is done, so is all before it."""
    assert send_probe(tenant, f"sentinel-{uuid.uuid4().hex}").get(timeout=30) == "alpha"


def test_suspension_stops_the_next_task_and_reactivation_runs_it_once(alpha):
    token = uuid.uuid4().hex
    # The worker now holds alpha, active, in its 30 s tenant cache.
    assert send_probe(alpha, f"warm-{token}").get(timeout=30) == "alpha"

    tenant_status_set(tenant=alpha, status=Tenant.Status.SUSPENDED)
    refused = send_probe(alpha, token)

    wait_until(lambda: ParkedTask.objects.filter(task_id=refused.id).exists())
    assert runs(token) == 0
    assert not refused.ready()
    parked = ParkedTask.objects.get(task_id=refused.id)
    assert (parked.tenant_id, parked.task_name) == (alpha.pk, "tests.suspension_probe")

    tenant_status_set(tenant=alpha, status=Tenant.Status.ACTIVE)

    assert refused.get(timeout=30) == "alpha"
    drain(alpha)
    assert runs(token) == 1
    assert not ParkedTask.objects.filter(tenant=alpha).exists()


def test_every_task_sent_during_a_suspension_waits_and_runs_once_in_order(alpha):
    tenant_status_set(tenant=alpha, status=Tenant.Status.SUSPENDED)
    tokens = [uuid.uuid4().hex for _ in range(3)]
    results = [send_probe(alpha, token) for token in tokens]

    wait_until(lambda: ParkedTask.objects.filter(tenant=alpha).count() == 3)
    assert list(ParkedTask.objects.values_list("task_id", flat=True)) == [r.id for r in results]
    assert [runs(token) for token in tokens] == [0, 0, 0]

    tenant_status_set(tenant=alpha, status=Tenant.Status.ACTIVE)

    assert [r.get(timeout=30) for r in results] == ["alpha"] * 3
    drain(alpha)
    assert [runs(token) for token in tokens] == [1, 1, 1]


def test_reactivation_made_around_the_service_is_swept(alpha):
    tenant_status_set(tenant=alpha, status=Tenant.Status.SUSPENDED)
    token = uuid.uuid4().hex
    refused = send_probe(alpha, token)
    wait_until(lambda: ParkedTask.objects.filter(task_id=refused.id).exists())

    Tenant.objects.filter(pk=alpha.pk).update(status=Tenant.Status.ACTIVE)  # e.g. SQL by hand
    release_parked_tasks.delay()

    assert refused.get(timeout=30) == "alpha"
    drain(alpha)
    assert runs(token) == 1
    assert not ParkedTask.objects.exists()
