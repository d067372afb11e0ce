"""Tasks run on a real Celery worker (on the real Redis) inside the sender's schema."""

from __future__ import annotations

import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import User
from nexiom.celery import TenantRequiredError, app
from tenants.models import ParkedTask, Tenant


@app.task(name="tests.schema_probe", ignore_result=False)
def schema_probe() -> dict:
    return {
        "schema": connection.schema_name,
        "users": sorted(User.objects.values_list("username", flat=True)),
    }


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker):
    # A queue of our own: a developer's running worker never takes these tasks.
    queue = f"tests-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    with django_db_blocker.unblock():
        for slug in ("alpha", "beta"):
            tenant = Tenant.objects.get(slug=slug)
            with schema_context(tenant.schema_name):
                User.objects.get_or_create(username=f"marker-{slug}")
        with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue]) as worker:
            yield worker
        with schema_context("alpha"):
            User.objects.filter(username="marker-alpha").delete()
        with schema_context("beta"):
            User.objects.filter(username="marker-beta").delete()
    app.conf.task_default_queue = "celery"


def test_task_sent_from_a_runs_in_schema_a_and_from_b_in_b(celery_worker, tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        from_a = schema_probe.delay()
    with schema_context(tenant_b.schema_name):
        from_b = schema_probe.delay()

    assert from_a.get(timeout=30) == {"schema": "alpha", "users": ["marker-alpha"]}
    assert from_b.get(timeout=30) == {"schema": "beta", "users": ["marker-beta"]}


def test_task_sent_without_a_tenant_is_refused(celery_worker, db):
    result = schema_probe.delay()

    with pytest.raises(TenantRequiredError):
        result.get(timeout=30)


def test_task_of_a_suspended_tenant_does_not_run_and_is_parked(db, tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(status="suspended")

    with schema_context(tenant_a.schema_name):
        result = schema_probe.apply()

    assert result.state == "IGNORED"
    parked = ParkedTask.objects.get(task_id=result.id)
    assert (parked.tenant_id, parked.task_name) == (tenant_a.pk, "tests.schema_probe")
    assert parked.signature["options"]["headers"] == {"_schema_name": "alpha"}
