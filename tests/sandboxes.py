"""The three sandboxes as real processes for the engine's tests, one per test session.

Plugged in by the root conftest (``pytest_plugins``), so every test folder can use them.

Each connector's ``<KEY>_LOCAL_URL`` points at its sandbox while the session
runs, so connections in the ``local`` environment talk to these processes.
Tests that change a sandbox's state (faults, expiry) reset it afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from connectors.sdk.testing import SandboxProcess

SANDBOXES = {
    "quickbooks": ("connectors.quickbooks.sandbox", "--rate-limit", "off"),
    "salesforce": ("connectors.salesforce.sandbox", "--rate-limit", "off"),
    "revenova": ("connectors.revenova.sandbox",),
}


def _running(key: str) -> Iterator[SandboxProcess]:
    module, *args = SANDBOXES[key]
    process = SandboxProcess(module, tuple(args))
    variable = f"{key.upper()}_LOCAL_URL"
    saved = os.environ.get(variable)
    os.environ[variable] = process.base_url
    try:
        yield process
    finally:
        process.stop()
        if saved is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = saved


@pytest.fixture(scope="session")
def qbo_sandbox() -> Iterator[SandboxProcess]:
    yield from _running("quickbooks")


@pytest.fixture(scope="session")
def sf_sandbox() -> Iterator[SandboxProcess]:
    yield from _running("salesforce")


@pytest.fixture(scope="session")
def revenova_sandbox() -> Iterator[SandboxProcess]:
    yield from _running("revenova")


@pytest.fixture
def qbo(qbo_sandbox) -> Iterator[SandboxProcess]:
    """The QuickBooks sandbox, with faults cleared after the test."""
    yield qbo_sandbox
    qbo_sandbox.http.delete(qbo_sandbox.url("/__sandbox__/faults"), timeout=5)


@pytest.fixture
def sf(sf_sandbox) -> Iterator[SandboxProcess]:
    yield sf_sandbox
    sf_sandbox.http.delete(sf_sandbox.url("/__sandbox__/faults"), timeout=5)


@pytest.fixture
def revenova(revenova_sandbox) -> Iterator[SandboxProcess]:
    yield revenova_sandbox
    revenova_sandbox.http.delete(revenova_sandbox.url("/__sandbox__/faults"), timeout=5)


# --- committed work: threads, worker processes and Celery workers must see the rows ----------


def sandbox_now(sandbox: SandboxProcess) -> float:
    """The sandbox's clock: token calls after this moment are the ones a test caused."""
    return sandbox.state()["now"]


def token_calls(sandbox: SandboxProcess, *, since: float, grant_type: str = "refresh_token"):
    """The sandbox's token calls of one grant type since ``since`` (its own clock)."""
    calls = sandbox.state()["oauth"]["token_calls"]
    return [c for c in calls if c["at"] >= since and c["grant_type"] == grant_type]


def sandbox_fingerprint(token: str) -> str:
    """How a sandbox's state names a token (its first six characters)."""
    return token[:6] + "…"


def connected(tenant, sandbox: SandboxProcess, *, connector: str, name: str):
    """A connection authorized through the real flow (service, sandbox consent, public
    callback), committed; returns the row."""
    from django_tenants.utils import tenant_context

    from connectors.models import Connection
    from connectors.services import authorization_start, connection_create
    from tests.connectors.flows import callback, consent

    with tenant_context(tenant):
        connection = connection_create(connector=connector, name=name)
        url = authorization_start(connection=connection, user=None)
    back = callback(consent(sandbox, url))
    assert back.status_code == 302, back.content
    with tenant_context(tenant):
        return Connection.objects.get(pk=connection.pk)


def committed_connectors_delete(schema: str) -> None:
    """Delete a tenant's connections, their secrets and the users tests made (committed)."""
    from django_tenants.utils import schema_context

    from accounts.models import User
    from connectors.models import Connection
    from vault.models import Secret

    with schema_context(schema):
        secret_ids = list(
            Connection.objects.exclude(credentials=None).values_list("credentials", flat=True)
        )
        Connection.objects.all().delete()
        Secret.objects.filter(pk__in=secret_ids).delete()
        User.objects.filter(username__startswith="health-").delete()


@pytest.fixture
def committed(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Database access without the test transaction: every write commits, as in
    production, so threads, worker processes and Celery workers see it. Tenants
    alpha and beta are left without connections, test users or audit rows."""
    from django.db import connections

    from tenants.models import Tenant
    from tests.vault.helpers import committed_audit_rows_delete
    from vault.audit import AUDIT_DATABASE

    with django_db_blocker.unblock():
        try:
            yield
        finally:
            Tenant.objects.filter(slug__in=("alpha", "beta")).update(status=Tenant.Status.ACTIVE)
            for schema in ("alpha", "beta"):
                committed_connectors_delete(schema)
            committed_audit_rows_delete()
            for alias in ("default", AUDIT_DATABASE):
                connections[alias].close()
