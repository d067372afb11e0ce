"""A committed tenant wired end to end, and a real Celery worker consuming the pipeline.

The worker has its own database connection, so the tenant's data is
committed (no test transaction) and the tenant is dropped when the module
ends. Pipeline Redis queues and task queues are the test broker's.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from nexiom.celery import app
from tenants.models import Tenant
from tests.pipeline.wiring import MAPPING, ORG_ID, Wired, tenant_wire

# Tests import the wiring's constants from here, with the fixtures.
__all__ = ["MAPPING", "ORG_ID"]

FIXTURES = Path(__file__).resolve().parents[2] / "connectors" / "revenova" / "fixtures"


def wait_until(condition: Callable[[], bool], timeout: float = 90, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or condition}")


def celery_queues(default: str, delivery: str) -> None:
    """Send this process's tasks to ``default`` and deliveries to ``delivery``.

    Celery caches the router and the default queue on first use; without
    forgetting them, a second module would keep sending to the first one's queues.
    """
    app.conf.task_default_queue = default
    app.conf.task_routes = {
        "pipeline.l5_deliver": {"queue": delivery},
        "pipeline.l5_later": {"queue": delivery},
    }
    app.amqp.flush_routes()
    for cached in ("router", "default_queue", "queues"):
        app.amqp.__dict__.pop(cached, None)


def pipeline_quiet(schema: str) -> None:
    """Wait for the schema's drains to finish, then forget its queues: the next module
    that wires a tenant must not inherit a draining flag or stray ids."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(
        client.scan_iter(f"nexiom:pipeline:{schema}:*:draining")
    ):
        time.sleep(0.1)
    keys = list(client.scan_iter(f"nexiom:pipeline:{schema}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="module")
def pipeline_worker(django_db_setup, django_db_blocker):
    default, delivery = f"tests-{uuid.uuid4().hex[:8]}", f"tests-delivery-{uuid.uuid4().hex[:8]}"
    celery_queues(default, delivery)
    try:
        with (
            django_db_blocker.unblock(),
            start_worker(
                app, pool="solo", perform_ping_check=False, queues=[default, delivery]
            ) as w,
        ):
            yield w
    finally:
        celery_queues("celery", "delivery")


@contextlib.contextmanager
def wire(slug: str, qbo_sandbox, django_db_blocker) -> Iterator[Wired]:
    """A committed tenant ``slug`` wired Revenova → QuickBooks sandbox; dropped afterwards."""
    with django_db_blocker.unblock():
        wired = tenant_wire(slug, qbo_sandbox)
        try:
            yield wired
        finally:
            Tenant.objects.get(pk=wired.tenant.pk).delete(force_drop=True)


def wired_as(slug: str):
    """A module's ``wired`` fixture: the wired tenant under ``slug``, its queues quiet before
    and after (``wired = wired_as("corr")`` in a module that needs a tenant of its own)."""

    @pytest.fixture(scope="module")
    def wired(pipeline_worker, qbo_sandbox, django_db_blocker):
        pipeline_quiet(slug)
        with wire(slug, qbo_sandbox, django_db_blocker) as wired:
            yield wired
            pipeline_quiet(slug)

    return wired


wired = wired_as("pipe")


@pytest.fixture
def fresh(wired, qbo, settings, django_db_blocker):
    """``wired`` with its pipeline emptied, the sandbox's faults cleared, retries quick
    (at most 1 s apart, 5 attempts), the sweeper taking rows at once, and the shared
    limiter's "minute" one second long (the sandbox enforces no limit here)."""
    from tests.pipeline.support import pipeline_reset

    settings.NEXIOM_DELIVERY_DELAY_MAX = 1
    settings.NEXIOM_DELIVERY_MAX_ATTEMPTS = 5
    settings.NEXIOM_SWEEP_GRACE_SECONDS = 0
    settings.NEXIOM_RATE_LIMIT_MINUTE_SECONDS = 1
    qbo.http.delete(qbo.url("/__sandbox__/faults"), timeout=5)
    with django_db_blocker.unblock():
        pipeline_reset(wired)
        yield wired
