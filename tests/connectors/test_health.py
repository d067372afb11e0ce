"""The health sweep on a real Celery worker, and the Desk's "needs reconnecting" banner.

The sweep tests commit their rows (the worker reads them on its own
connection) and run the beat task ``connectors.health_sweep`` on a worker in
this process, on a queue of its own, against the sandboxes as processes.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from accounts.models import User
from accounts.roles import Role
from connectors.models import Connection
from connectors.quickbooks.connector import QuickBooksOAuth2
from connectors.services import connection_create
from connectors.services.schedule import JITTER_WINDOW, jitter_for
from connectors.tasks import health_sweep, health_sweep_tenant
from nexiom.celery import app
from tenants.models import Tenant
from tenants.selectors import tenants_active
from tests.factories import ConnectionFactory
from tests.helpers import client_as, client_for, member, signed_in
from tests.sandboxes import connected, sandbox_fingerprint, sandbox_now, token_calls
from vault.services import secret_reveal

REVENOVA_KEY = {
    "username": "integration@demo-freight.example",
    "password": "dev-password-revenova",
    "security_token": "devSecurityToken123",
    "org_id": "00D5e000000KqTzEAK",
}


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    queue = f"tests-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    with (
        django_db_blocker.unblock(),
        start_worker(app, pool="solo", perform_ping_check=False, queues=[queue]) as w,
    ):
        yield w
    app.conf.task_default_queue = "celery"


def due_now(tenant: Tenant, *connections: Connection) -> None:
    with tenant_context(tenant):
        Connection.objects.filter(pk__in=[c.pk for c in connections]).update(
            next_check_at=timezone.now() - timedelta(seconds=1)
        )


def fresh(tenant: Tenant, connection: Connection) -> Connection:
    with tenant_context(tenant):
        return Connection.objects.get(pk=connection.pk)


def refresh_token_of(tenant: Tenant, connection: Connection) -> str:
    with tenant_context(tenant):
        secret = Connection.objects.get(pk=connection.pk).credentials
        return secret_reveal(secret=secret, reason="test", actor="tests")["refresh_token"]


def test_beat_sweep_fans_out_per_active_tenant_and_checks_only_due_connections(
    committed, worker, qbo, revenova
):
    alpha = Tenant.objects.get(slug="alpha")
    beta = Tenant.objects.get(slug="beta")
    due = [connected(alpha, qbo, connector="quickbooks", name=f"Books {i}") for i in (1, 2)]
    idle = connected(alpha, qbo, connector="quickbooks", name="Idle books")
    with tenant_context(alpha):
        tms = connection_create(connector="revenova", name="TMS", api_key=REVENOVA_KEY)
    elsewhere = connected(beta, qbo, connector="quickbooks", name="Beta books")
    due_now(alpha, *due, tms)
    due_now(beta, elsewhere)
    Tenant.objects.filter(pk=beta.pk).update(status=Tenant.Status.SUSPENDED)
    untouched = {c.pk: fresh(alpha, c) for c in (idle,)}
    beta_before = fresh(beta, elsewhere)
    tms_before = fresh(alpha, tms)
    presented = {
        c.pk: sandbox_fingerprint(refresh_token_of(t, c))
        for t, c in ((alpha, due[0]), (alpha, due[1]), (alpha, idle), (beta, elsewhere))
    }
    since = sandbox_now(qbo)

    sent = health_sweep.delay().get(timeout=30)
    with schema_context(alpha.schema_name):
        # The solo worker runs in order: once this is done, so is alpha's sweep.
        assert health_sweep_tenant.delay().get(timeout=60)["checked"] == 0

    assert sent == tenants_active().count()
    assert "beta" not in set(tenants_active().values_list("slug", flat=True))
    refreshes = token_calls(qbo, since=since)
    assert sorted(c["presented"] for c in refreshes) == sorted(presented[c.pk] for c in due), (
        refreshes
    )
    margin = QuickBooksOAuth2.refresh_margin
    jitters = []
    for connection in due:
        after = fresh(alpha, connection)
        assert (after.status, after.failure_count) == ("connected", 0)
        jitter = after.access_expires_at - margin - after.next_check_at
        assert timedelta(0) <= jitter < JITTER_WINDOW
        with schema_context(alpha.schema_name):
            assert jitter == jitter_for(after)
        jitters.append(jitter)
    assert jitters[0] != jitters[1]
    for pk, before in untouched.items():
        after = fresh(alpha, Connection(pk=pk))
        assert (after.next_check_at, after.refreshed_at, after.access_fingerprint) == (
            before.next_check_at,
            before.refreshed_at,
            before.access_fingerprint,
        )
    tested = fresh(alpha, tms)
    assert tested.last_checked_at > tms_before.last_checked_at
    assert tested.next_check_at > tested.last_checked_at
    assert (tested.status, tested.last_error) == ("connected", "")
    left = fresh(beta, elsewhere)
    assert (left.next_check_at, left.refreshed_at) == (
        beta_before.next_check_at,
        beta_before.refreshed_at,
    )


def test_a_sweep_twice_in_a_row_refreshes_once(committed, worker, qbo):
    alpha = Tenant.objects.get(slug="alpha")
    books = connected(alpha, qbo, connector="quickbooks", name="Books")
    due_now(alpha, books)
    since = sandbox_now(qbo)

    with schema_context(alpha.schema_name):
        first = health_sweep_tenant.delay()
        second = health_sweep_tenant.delay()
        reports = [first.get(timeout=60), second.get(timeout=60)]

    assert [r["refreshed"] for r in reports] == [1, 0]
    assert len(token_calls(qbo, since=since)) == 1


# --- the Desk's banner ----------------------------------------------------------------------


def banner_html(pk: int, name: str = "Books") -> str:
    return (
        f'{name} needs reconnecting — <a href="/admin/connectors/connection/{pk}/change/">'
        "Reconnect</a>"
    )


@pytest.fixture
def refused(tenant_a) -> Connection:
    with tenant_context(tenant_a):
        books = ConnectionFactory(name="Books", connected=True)
        ConnectionFactory(name="Fine", connected=True)
        Connection.objects.filter(pk=books.pk).update(status="needs_reauth")
        return books


@pytest.mark.parametrize("role", [Role.ADMIN, Role.EDITOR, Role.VIEWER])
def test_every_desk_page_shows_the_reconnect_banner(tenant_a, refused, role):
    client = client_as(tenant_a, role)

    for path in ("/admin/", "/admin/connectors/connection/", "/admin/accounts/user/"):
        page = client.get(path)
        if page.status_code == 403:  # a page this role may not open shows no Desk at all
            continue
        assert page.status_code == 200, (path, page.status_code)
        html = page.content.decode()
        assert banner_html(refused.pk) in html, path
        assert "Fine needs reconnecting" not in html
        assert "| Nexiom Desk</title>" in html
        assert '<div id="site-name"><a href="/admin/">Nexiom Desk</a></div>' in html


def test_no_banner_when_every_connection_is_fine(tenant_a):
    with tenant_context(tenant_a):
        ConnectionFactory(name="Books", connected=True)
    page = client_as(tenant_a, Role.ADMIN).get("/admin/")

    assert "needs reconnecting" not in page.content.decode()


def test_no_banner_for_staff_who_may_not_see_connections(tenant_a, refused):
    nobody = member(tenant_a, "health-norole", None)

    page = signed_in(tenant_a, nobody).get("/admin/")

    assert "needs reconnecting" not in page.content.decode()


def test_no_banner_on_the_platform_host(db, refused):
    operator = User.objects.create_superuser(
        username="health-operator", email="ops@example.com", password="unused-password-1"
    )
    client = client_for(None)
    client.force_login(operator)

    page = client.get("/admin/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "needs reconnecting" not in html
    assert "Nexiom platform" in html
