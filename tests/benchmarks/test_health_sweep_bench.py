"""Health sweep figures for `make bench`: one sweep over 10,000 connections.

20 tenants (hbench-00 ... hbench-19) with 500 QuickBooks connections each,
every access token expiring within the same minute, so every connection is
due. Then one sweep end to end: the beat task ``connectors.health_sweep`` on
a real Celery worker (in this process, its own queue), the per-tenant tasks,
the batches they fan out and every refresh, against a QuickBooks sandbox
process with its limits off. Printed, never asserted on time: the seconds,
how many were refreshed (the sandbox's token calls say the same), and how
the next refreshes are spread by the jitter.

Setting up is measured apart: provisioning the tenants (schemas migrated),
one real OAuth connect per tenant (its refresh token is shared by that
tenant's rows: QuickBooks honours a replaced refresh token for 24 h, so each
row's first refresh succeeds and then holds a token family of its own), and
the rows: one ``secret_seal`` each, the connections in one ``bulk_create``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.utils import timezone
from django_tenants.utils import schema_context

from connectors.models import Connection, ConnectionStatus
from connectors.quickbooks.connector import QuickBooksOAuth2
from connectors.services import authorization_start, connection_create
from connectors.services.credentials import (
    access_value,
    credentials_reveal,
    fingerprint,
)
from connectors.services.schedule import jitter_for
from connectors.tasks import health_sweep
from nexiom.celery import app
from tenants.services import tenant_provision
from tests.benchmarks.report import figure_add
from tests.connectors.flows import callback, consent
from tests.pipeline.wiring import sandbox_limits_off
from vault.audit import AUDIT_DATABASE
from vault.services import secret_seal

TENANTS = 20
PER_TENANT = 500
TOTAL = TENANTS * PER_TENANT
#: The worker, as production runs it: a prefork ``celery worker`` process with one child
#: per core (each tenant/batch task also checks on health.CHECK_THREADS threads).
WORKER_CONCURRENCY = int(os.environ.get("NEXIOM_BENCH_HEALTH_CONCURRENCY", os.cpu_count() or 2))
ROOT = Path(__file__).resolve().parents[2]


def _say(line: str = "") -> None:
    print(line, flush=True)


def _on_own_connection(work, *, schema: str | None = None):
    def run():
        try:
            if schema is None:
                return work()
            with schema_context(schema):
                return work()
        finally:
            for alias in ("default", AUDIT_DATABASE):
                connections[alias].close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture(scope="module")
def sandbox():
    yield from sandbox_limits_off()


def _connect_one() -> tuple[Connection, str]:
    """A connection of the current tenant and its authorize URL (the bench consents)."""
    first = connection_create(connector="quickbooks", name="Template")
    url = authorization_start(connection=first, user=None)
    return first, url


def _fill(schema: str, template_pk: int, expiry_base) -> int:
    """500 connected rows like the template connection, each with a secret of its own."""
    template = Connection.objects.get(pk=template_pk)
    tokens = credentials_reveal(connection=template, reason="benchmark set-up", actor="bench")
    secrets = [
        secret_seal(data=dict(tokens), purpose="connectors.quickbooks")
        for _ in range(PER_TENANT - 1)
    ]
    rows = [
        Connection(
            connector="quickbooks",
            name=f"Books {i:04d}",
            environment="local",
            status=ConnectionStatus.CONNECTED,
            metadata=template.metadata,
            credentials=secret,
            access_fingerprint=fingerprint(access_value(tokens)),
            # Every token expires within the same minute.
            access_expires_at=expiry_base + timedelta(seconds=(i * 7) % 60),
        )
        for i, secret in enumerate(secrets)
    ]
    created = Connection.objects.bulk_create(rows)
    Connection.objects.filter(pk=template.pk).update(access_expires_at=expiry_base)
    everything = [*created, Connection.objects.get(pk=template.pk)]
    margin = QuickBooksOAuth2.refresh_margin
    for row in everything:
        row.next_check_at = row.access_expires_at - margin - jitter_for(row)
    Connection.objects.bulk_update(everything, ["next_check_at"], batch_size=500)
    return len(everything)


def _spread(moments: list) -> list[str]:
    """Counts per 30-second bucket after the earliest moment."""
    start = min(moments)
    buckets = Counter(int((m - start).total_seconds() // 30) for m in moments)
    return [
        f"  +{b * 30 // 60:d}m{b * 30 % 60:02d}s  {buckets[b]:>6,}  " + "#" * (buckets[b] // 50)
        for b in range(max(buckets) + 1)
    ]


def test_one_health_sweep_over_ten_thousand_connections(db, sandbox):
    slugs = [f"hbench-{i:02d}" for i in range(TENANTS)]

    started = time.perf_counter()
    tenants = _on_own_connection(
        lambda: [tenant_provision(slug=s, name=s.title()).tenant for s in slugs]
    )
    _say(f"\n[health bench] provisioned {TENANTS} tenants in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    templates = {}
    for tenant in tenants:
        first, url = _on_own_connection(_connect_one, schema=tenant.schema_name)
        # The callback commits too (the test's own connection sits in a transaction).
        back = _on_own_connection(lambda url=url: callback(consent(sandbox, url)))
        assert back.status_code == 302
        templates[tenant.schema_name] = first.pk
    # Expiring within one minute from now: with the 10-minute margin, all are due.
    expiry_base = timezone.now() + timedelta(minutes=1)
    made = sum(
        _on_own_connection(lambda s=schema, pk=pk: _fill(s, pk, expiry_base), schema=schema)
        for schema, pk in templates.items()
    )
    _say(
        f"[health bench] {made:,} connections (one OAuth connect per tenant, one sealed "
        f"secret each) in {time.perf_counter() - started:.1f} s"
    )
    assert made == TOTAL
    issued_before = sandbox.state()["oauth"]["issued"]["access"]

    # The settings' own queue: the worker's tasks send their fan-out there too.
    queue = "celery"
    app.conf.task_default_queue = queue
    database = connections["default"].settings_dict
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "nexiom", "worker", "-P", "prefork"),
            *("-c", str(WORKER_CONCURRENCY), "-Q", queue, "-l", "WARNING"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "nexiom.settings_test",
            "DATABASE_URL": (
                f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
                f"{database['NAME']}"
            ),
            "NEXIOM_TEST_REDIS_URL": django_settings.CELERY_BROKER_URL,
        },
        start_new_session=True,
    )
    try:
        t0 = timezone.now()
        started = time.perf_counter()
        health_sweep.apply_async(queue=queue)
        refreshed = failed = 0
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            refreshed, failed = _on_own_connection(lambda: _outcomes(tenants, t0))
            if refreshed + failed >= TOTAL:
                break
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        app.conf.task_default_queue = "celery"

    token_calls = sandbox.state()["oauth"]["issued"]["access"] - issued_before
    scheduled = _on_own_connection(lambda: _next_checks(tenants))
    window = max(scheduled) - min(scheduled)
    _say(
        f"health sweep: {TOTAL:,} connections in {elapsed:.1f} s "
        f"({refreshed:,} refreshed, spread over {_minutes(window)})"
    )
    _say(
        f"[health bench] {TOTAL / elapsed:,.0f} refreshes/s; {failed} failed; "
        f"{token_calls:,} token calls at the sandbox; worker: prefork, {WORKER_CONCURRENCY} "
        "processes"
    )
    figure_add(
        "connectors",
        f"health sweep, {TOTAL:,} connections all due (refresh each)",
        elapsed,
        "s",
        shown=f"{elapsed:.1f} s ({TOTAL / elapsed:,.0f} refreshes/s, {failed} failed)",
        against=f"next checks spread over {_minutes(window)}",
        target="< 60 s",
        met=elapsed < 60,
    )
    _say("[health bench] next refreshes scheduled (30-second buckets):")
    for line in _spread(scheduled):
        _say(line)


def _outcomes(tenants, since) -> tuple[int, int]:
    refreshed = failed = 0
    for tenant in tenants:
        with schema_context(tenant.schema_name):
            refreshed += Connection.objects.filter(refreshed_at__gte=since).count()
            failed += (
                Connection.objects.filter(last_checked_at__gte=since).exclude(last_error="").count()
            )
    return refreshed, failed


def _next_checks(tenants) -> list:
    moments = []
    for tenant in tenants:
        with schema_context(tenant.schema_name):
            moments += list(Connection.objects.values_list("next_check_at", flat=True))
    return [m for m in moments if m is not None]


def _minutes(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min {seconds % 60:02d} s"
