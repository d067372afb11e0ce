"""Sync history figures for `make bench`: list latencies with 1,000,000 events in one tenant.

The events are written with one ``INSERT ... SELECT generate_series`` (a mix of
layers, statuses, connections and routes spread over 30 days), committed in a
tenant of their own, then ANALYZEd as autovacuum would. For each of the Desk
list page, a filtered Desk list, the API list, a filtered API list and a
search, it prints p50 and p95 over repeated requests, both for the whole page
(through the test client, as a browser would) and for its slowest query.
Targets (issue 16): p95 under 100 ms for the query, under 300 ms for the page.

``NEXIOM_BENCH_HISTORY_EVENTS`` sets the size (default 1,000,000).
"""

from __future__ import annotations

import os
import statistics
import time

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_role_set
from sync_history.models import SyncEvent
from tenants.models import Tenant
from tenants.services import tenant_provision
from tests.benchmarks.report import figure_add

EVENTS = int(os.environ.get("NEXIOM_BENCH_HISTORY_EVENTS", "1000000"))
RUNS = 30
SLUG = "histbench"

_FILL = """
INSERT INTO "{table}" (created, layer, status, message_id, record_id, delivery_id,
    connection_id, route_id, external_id, reference, attempt, duration_ms, error_code,
    error, next_retry_at, detail, correlation_id)
SELECT now() - (n %% 2592000) * interval '1 second',
       (ARRAY['gateway','replica','normalize','outbound','delivery'])[1 + n %% 5],
       (ARRAY['succeeded','succeeded','succeeded','succeeded','succeeded','succeeded',
              'skipped','retrying','failed','dead'])[1 + (n / 7) %% 10],
       n / 5, n / 5, n / 5, 1 + n %% 3, 1 + n %% 2,
       'a0B5e' || lpad((n / 5)::text, 13, '0'), 'INV-' || (n / 5)::text,
       1, n %% 40, '', '', NULL, '{{}}'::jsonb, md5((n / 5)::text)
FROM generate_series(1, %s) AS n
"""


def _say(line: str = "") -> None:
    print(line, flush=True)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return statistics.median(ordered), p95


@pytest.fixture(scope="module")
def filled(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        tenant = tenant_provision(slug=SLUG, name="History Bench").tenant
        try:
            with schema_context(tenant.schema_name):
                started = time.perf_counter()
                with connection.cursor() as cursor:
                    cursor.execute(_FILL.format(table=SyncEvent._meta.db_table), [EVENTS])
                    cursor.execute(f'ANALYZE "{SyncEvent._meta.db_table}"')
                _say(
                    f"\nhistory: {EVENTS:,} events written in {time.perf_counter() - started:.1f} s"
                )
                user = User.objects.create(username="viewer", oidc_sub="sub-v", is_staff=True)
                user_role_set(user=user, role=Role.EDITOR)
            yield tenant, user
        finally:
            connections.close_all()
            Tenant.objects.get(pk=tenant.pk).delete(force_drop=True)


def _measure(client: Client, path: str) -> tuple[list[float], list[float]]:
    pages, queries = [], []
    client.get(path)  # warm caches, as a working Desk has
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            pages.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        queries.append(max(float(q["time"]) * 1000 for q in captured.captured_queries))
    return pages, queries


def test_history_list_latency(filled, django_db_blocker):
    tenant, user = filled
    with django_db_blocker.unblock(), schema_context(tenant.schema_name):
        client = Client(HTTP_HOST=f"{SLUG}.localhost")
        client.force_login(user)
        cases = [
            ("Desk list", "/admin/sync_history/syncevent/"),
            (
                "Desk list, dead letters of L5",
                "/admin/sync_history/syncevent/?status__exact=dead&layer__exact=delivery",
            ),
            ("Desk search by invoice number", "/admin/sync_history/syncevent/?q=INV-123456"),
            ("API list", "/api/sync-history/"),
            ("API list, dead letters of L5", "/api/sync-history/?status=dead&layer=delivery"),
            (
                "API list, one connection, a day",
                "/api/sync-history/?connection=2&since=2026-01-01T00:00:00Z",
            ),
        ]
        title = f"history list ({EVENTS:,} events)"
        _say(f"{title:<44}{'page p50':>10}{'page p95':>10}{'query p95':>11}")
        for name, path in cases:
            pages, queries = _measure(client, path)
            page_p50, page_p95 = _percentiles(pages)
            _, query_p95 = _percentiles(queries)
            _say(f"{name:<44}{page_p50:>8.1f}ms{page_p95:>8.1f}ms{query_p95:>9.1f}ms")
            figure_add(
                "history",
                f"{name} at {EVENTS:,} events, page p95",
                page_p95,
                "ms",
                shown=f"{page_p95:.1f} ms (p50 {page_p50:.1f}, slowest query p95 {query_p95:.1f})",
                target="page p95 < 300 ms, query p95 < 100 ms",
                met=page_p95 < 300 and query_p95 < 100,
            )
        _say("targets: query p95 < 100 ms, page p95 < 300 ms")
