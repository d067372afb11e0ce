"""Suite-wide fixtures: the test database with two committed tenants, per-host clients.

Tenants ``alpha`` and ``beta`` are provisioned once per session through the
real provisioning service (schemas created and migrated) and committed, so
that other connections (a Celery worker, a live server) see them too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection, connections

from tenants.models import Tenant
from tenants.services import public_tenant_ensure, tenant_provision
from tests.idp import LoopbackIdP, free_port
from vault.audit import AUDIT_DATABASE

#: Session fixtures: the sandboxes (qbo, sf, revenova), the live server and the browser.
pytest_plugins = ["tests.sandboxes", "tests.browser"]

TENANT_SLUGS = ("alpha", "beta")


def pytest_collection_modifyitems(items) -> None:
    """Any test on the database may reveal a secret, whose audit row goes to ``vault_audit``."""
    for item in items:
        if {"db", "transactional_db"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.django_db(databases=["default", AUDIT_DATABASE]))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    own_setup = None
    if not connections["default"].settings_dict["NAME"].startswith("test_"):
        # pytest-django creates the test database only when a selected test asks for
        # `db`; committed-data tests (live server, Celery worker) reach it through
        # django_db_blocker alone. Never let them write into DATABASE_URL's database.
        from django.test.utils import setup_databases

        with django_db_blocker.unblock():
            own_setup = setup_databases(
                verbosity=0, interactive=False, aliases={"default", AUDIT_DATABASE}
            )
    with django_db_blocker.unblock():
        public_tenant_ensure()
        for slug in TENANT_SLUGS:
            tenant_provision(slug=slug, name=f"{slug.title()} Freight Ltd")
    # The vault's audit alias mirrors default (nexiom/settings.py), but Django
    # points only this thread's connection at the test database; connections
    # opened later (worker and server threads) must find it in the settings.
    connections.settings["vault_audit"]["NAME"] = connections["default"].settings_dict["NAME"]
    yield
    with django_db_blocker.unblock():
        # Worker and server threads keep their own connections open; end them
        # so the test database can be dropped.
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        if own_setup is not None:
            from django.test.utils import teardown_databases

            teardown_databases(own_setup, verbosity=0)


@pytest.fixture(autouse=True)
def _public_schema_after_each_test() -> Iterator[None]:
    yield
    connection.set_schema_to_public()


@pytest.fixture
def tenant_a(db) -> Tenant:
    return Tenant.objects.get(slug="alpha")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return Tenant.objects.get(slug="beta")


@pytest.fixture(scope="session")
def live_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def idp(tmp_path_factory, live_port):
    hosts = []
    for slug in ("alpha", "beta", "browser"):
        hosts += [f"{slug}.localhost", f"{slug}.localhost:{live_port}"]
    provider = LoopbackIdP(
        port=free_port(),
        users_file=tmp_path_factory.mktemp("idp") / "users.json",
        redirect_hosts=hosts,
    )
    provider.start()
    saved = {name: getattr(settings, name) for name in provider.endpoints()}
    for name, value in provider.endpoints().items():
        setattr(settings, name, value)
    yield provider
    for name, value in saved.items():
        setattr(settings, name, value)
    provider.stop()
