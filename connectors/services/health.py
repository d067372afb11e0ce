"""Connection health: the sweep that refreshes before expiry and tests on a schedule.

A platform beat job visits every active tenant; in each, the connections
whose ``next_check_at`` has come are refreshed (OAuth2: before the access
token expires, and at least every ``CHECK_INTERVAL`` so an idle refresh token
stays alive) or tested (API keys). ``next_check_at`` carries a per-connection
jitter (``schedule.jitter_for``), so connections that expire together are
refreshed spread over the window, not in the same second.

The sweep first *claims* the due rows (one UPDATE moves their
``next_check_at`` out by ``CLAIM_LEASE``, skipping rows a refresh holds
locked), so the next minute's sweep does not pick them again while they wait;
a check that dies with its worker is retried when the claim runs out. The
checks themselves run on a few threads: a refresh mostly waits on the
provider and the database, and ten thousand of them one after the other
would not fit in a minute. Each check still goes through
``connection_refresh``, whose row lock keeps it to one refresh at a time.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from celery import current_task
from django.db import connection as db_connection
from django.db import connections, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from connectors.errors import ConnectionStateConflict, RemoteError
from connectors.models import Connection, ConnectionStatus
from connectors.registry import connector_get
from connectors.sdk.credentials import OAuth2
from connectors.services.connections import connection_test
from connectors.services.schedule import CLAIM_LEASE
from connectors.services.tokens import connection_refresh

logger = logging.getLogger(__name__)

#: Statuses the sweeper looks after; pending, disabled and needs_reauth wait for a person.
SWEPT = (ConnectionStatus.CONNECTED, ConnectionStatus.ERROR)
#: Checks of one sweep (or batch) run on this many threads, each with its own connections.
CHECK_THREADS = 4


@dataclass
class SweepReport:
    checked: int = 0
    refreshed: int = 0
    tested: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: str) -> None:
        self.checked += 1
        if outcome in ("refreshed", "tested", "failed", "skipped"):
            setattr(self, outcome, getattr(self, outcome) + 1)

    def merge(self, other: SweepReport) -> None:
        for name in ("checked", "refreshed", "tested", "failed", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors


@dataclass(frozen=True)
class Claim:
    """Due connections taken by one sweep: their ids, and the ``next_check_at`` it set."""

    ids: list[int]
    until: datetime


def connections_due(*, limit: int = 500) -> list[int]:
    """Ids of this tenant's connections whose next check has come, oldest first (read only)."""
    return list(
        Connection.objects.filter(status__in=SWEPT, next_check_at__lte=timezone.now())
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )


def connections_claim_due(*, limit: int = 5000) -> Claim:
    """Claim this tenant's due connections (oldest first) for one sweep; see the module doc.

    Rows locked by a refresh under way are skipped: whoever holds them is
    already doing the work and will reschedule them.
    """
    now = timezone.now()
    until = now + CLAIM_LEASE
    with transaction.atomic():
        ids = list(
            Connection.objects.select_for_update(skip_locked=True)
            .filter(status__in=SWEPT, next_check_at__lte=now)
            .order_by("next_check_at")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Connection.objects.filter(pk__in=ids).update(next_check_at=until)
    return Claim(ids=ids, until=until)


def connection_health_check(
    *, connection_id: int, claimed_until: datetime | None = None, actor=None
) -> str:
    """Refresh or test one connection if due; returns "refreshed", "tested", "failed" or
    "skipped" (gone, not swept, not due, or already done by someone else)."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None or connection.status not in SWEPT:
        return "skipped"
    connector = connector_get(key=connection.connector)
    try:
        if isinstance(connector.credential, OAuth2):
            before = connection.refreshed_at
            fresh = connection_refresh(
                connection=connection, claimed_until=claimed_until, actor=actor
            )
            return "refreshed" if fresh.refreshed_at != before else "skipped"
        if not _api_key_due(connection, claimed_until=claimed_until):
            return "skipped"
        result = connection_test(connection=connection, actor=actor)
        return "tested" if result.ok else "failed"
    except (RemoteError, ConnectionStateConflict) as error:
        logger.info("health check of connection %s: %s", connection_id, error.code)
        return "failed"


def _api_key_due(connection: Connection, *, claimed_until: datetime | None) -> bool:
    if claimed_until is not None:
        # Still our claim; a test or refresh since then rescheduled it.
        return connection.next_check_at == claimed_until
    return connection.next_check_at is not None and connection.next_check_at <= timezone.now()


def connections_check(
    *, ids: Iterable[int], claimed_until: datetime | None = None, threads: int | None = None
) -> SweepReport:
    """Check these connections of the current tenant on up to ``threads`` threads."""
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    count = 0
    for pk in ids:
        pending.put(pk)
        count += 1
    threads = min(CHECK_THREADS if threads is None else threads, count)
    actor = current_task.name if current_task and current_task.name else None
    report = SweepReport()
    if count == 0:
        return report
    if threads <= 1 or transaction.get_connection().in_atomic_block:
        # One at a time on this connection; also inside a transaction, whose rows
        # other threads' connections could not see.
        report.merge(_drain(pending, claimed_until=claimed_until, actor=actor))
        return report
    schema = db_connection.schema_name
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="health") as pool:
        futures = [
            pool.submit(
                _drain_on_own_connection,
                pending,
                schema=schema,
                claimed_until=claimed_until,
                actor=actor,
            )
            for _ in range(threads)
        ]
        for future in futures:
            report.merge(future.result())
    return report


def _drain_on_own_connection(
    pending: queue.SimpleQueue[int], *, schema: str, claimed_until: datetime | None, actor
) -> SweepReport:
    try:
        with schema_context(schema):
            return _drain(pending, claimed_until=claimed_until, actor=actor)
    finally:
        # This thread's own connections (default and the vault's audit alias).
        connections.close_all()


def _drain(
    pending: queue.SimpleQueue[int], *, claimed_until: datetime | None, actor
) -> SweepReport:
    report = SweepReport()
    while True:
        try:
            pk = pending.get_nowait()
        except queue.Empty:
            return report
        try:
            outcome = connection_health_check(
                connection_id=pk, claimed_until=claimed_until, actor=actor
            )
        except Exception as error:  # one broken connection must not stop the sweep
            # Rolled back: its old tokens stay sealed; the claim runs out and it is retried.
            logger.exception("health check of connection %s crashed", pk)
            report.errors.append(f"{pk}: {type(error).__name__}")
            outcome = "failed"
        report.add(outcome)


def connections_sweep(*, limit: int = 5000, threads: int | None = None) -> SweepReport:
    """Claim and check every due connection of the current tenant."""
    claim = connections_claim_due(limit=limit)
    return connections_check(ids=claim.ids, claimed_until=claim.until, threads=threads)
