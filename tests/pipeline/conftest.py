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
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_role_set
from connectors.models import Connection
from nexiom.celery import app
from pipeline.models import Route
from pipeline.services.hooks import hook_issue
from pipeline.services.routes import route_create
from tenants.models import Tenant
from tenants.services import tenant_provision
from tests.connectors.flows import connect

FIXTURES = Path(__file__).resolve().parents[2] / "connectors" / "revenova" / "fixtures"
ORG_ID = "00D5e000000KqTzEAK"
MAPPING = {
    "items": {
        "line_haul": {"value": "21", "name": "Linehaul"},
        "fuel_surcharge": {"value": "22", "name": "Fuel Surcharge"},
        "accessorial": {"value": "23", "name": "Accessorials"},
        "discount": {"value": "24", "name": "Discounts"},
    },
    "tax_code": "TAX",
}


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


class Wired:
    """The committed tenant ``pipe``: a Revenova source, a connected QuickBooks target,
    a route between them and the source's ingest URL."""

    def __init__(
        self,
        tenant: Tenant,
        revenova: Connection,
        books: Connection,
        route: Route,
        hook,
        host: str = "pipe.localhost",
    ):
        self.tenant, self.revenova, self.books, self.route = tenant, revenova, books, route
        self.host = host
        self.hook_path = "/" + hook.url.split("/", 3)[3]

    def post(self, body: bytes, content_type: str = "text/xml; charset=utf-8", path: str = ""):
        return Client(HTTP_HOST=self.host).post(
            path or self.hook_path, body, content_type=content_type
        )


@contextlib.contextmanager
def wire(slug: str, qbo_sandbox, django_db_blocker) -> Iterator[Wired]:
    """A committed tenant ``slug`` wired Revenova → QuickBooks sandbox; dropped afterwards."""
    with django_db_blocker.unblock():
        tenant = tenant_provision(slug=slug, name=f"{slug.title()} Freight").tenant
        host = f"{slug}.localhost"
        try:
            with schema_context(tenant.schema_name):
                editor = User.objects.create(username="ed", oidc_sub="sub-ed", is_staff=True)
                user_role_set(user=editor, role=Role.EDITOR)
                revenova = Connection.objects.create(
                    connector="revenova",
                    name="TMS",
                    status=Connection.Status.CONNECTED,
                    metadata={"org_id": ORG_ID},
                )
            client = Client(HTTP_HOST=host)
            with schema_context(tenant.schema_name):
                client.force_login(editor)
            books = connect(tenant, client, qbo_sandbox, connector="quickbooks", name="Books")
            with schema_context(tenant.schema_name):
                route = route_create(
                    name="Invoices to QuickBooks", source=revenova, target=books, mapping=MAPPING
                )
                hook = hook_issue(connection=revenova)
            yield Wired(tenant, revenova, books, route, hook, host=host)
        finally:
            Tenant.objects.get(pk=tenant.pk).delete(force_drop=True)


@pytest.fixture(scope="module")
def wired(pipeline_worker, qbo_sandbox, django_db_blocker):
    with wire("pipe", qbo_sandbox, django_db_blocker) as wired:
        yield wired


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
