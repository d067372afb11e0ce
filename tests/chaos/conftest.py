"""The chaos session: its own Redis and PostgreSQL (``infra``), started before the test
database is created on them, removed at the end.

These tests run only through ``make chaos`` (``python -m tests.chaos.run``), which
points Django at the private servers before it starts; run any other way they skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from connectors.sdk.testing import SandboxProcess
from tests.chaos import infra
from tests.pipeline.wiring import sandbox_limits_off


@dataclass
class Services:
    redis: infra.PrivateRedis
    cluster: infra.PrivateCluster | None
    pg_skip: str  # why PostgreSQL is not restarted (empty when it is)


@pytest.fixture(scope="session")
def chaos_services() -> Iterator[Services]:
    if not os.environ.get(infra.ENV_RUN):
        pytest.skip(
            "the chaos suite restarts its own Redis and PostgreSQL: run it with `make chaos` "
            "(python -m tests.chaos.run)"
        )
    redis_server = infra.PrivateRedis(int(os.environ[infra.ENV_REDIS_PORT]))
    redis_server.start()
    cluster = None
    skip = os.environ.get(infra.ENV_PG_SKIP, "")
    try:
        if not skip:
            tools = infra.pg_tools()
            assert not isinstance(tools, str), tools
            cluster = infra.PrivateCluster(tools, int(os.environ[infra.ENV_PG_PORT]))
            cluster.init()
            cluster.start()
        else:
            print(f"\n[chaos] PostgreSQL fault SKIPPED: {skip}; the run uses the system's server")
        yield Services(redis_server, cluster, skip)
    finally:
        redis_server.kill()
        if cluster is not None:
            cluster.stop()


@pytest.fixture(scope="session")
def django_db_setup(chaos_services, django_db_setup):
    """The suite's database setup, on the servers ``chaos_services`` started first."""
    yield


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    """A QuickBooks sandbox with its limits off (the engine's limiter still runs): the
    faults come from the schedule, not from the sandbox's own throttling."""
    yield from sandbox_limits_off()
