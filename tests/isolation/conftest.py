"""The sweep's two tenants, built once for the package and dropped after it.

The data is committed (not a test transaction) because A's connections are
authorized through real sandbox processes and the public callback, as in
production; each test still runs in a transaction, so whatever B's requests
change is rolled back and never reaches the next test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connections

from tests.isolation.world import World, world_build, world_drop
from vault.audit import AUDIT_DATABASE


@pytest.fixture(scope="package")
def world(
    django_db_setup, django_db_blocker, qbo_sandbox, sf_sandbox, revenova_sandbox
) -> Iterator[World]:
    with django_db_blocker.unblock():
        world_drop()  # a run that was killed may have left them
        try:
            yield world_build(qbo_sandbox, sf_sandbox)
        finally:
            connections["default"].set_schema_to_public()
            world_drop()
            for alias in ("default", AUDIT_DATABASE):
                connections[alias].close()
