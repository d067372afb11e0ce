"""Connection health: the sweep that refreshes before expiry and tests on a schedule.

A platform beat job visits every active tenant; in each, the connections
whose ``next_check_at`` has come are refreshed (OAuth2 with an expiry) or
tested (API keys, and OAuth2 without an expiry, which also refresh to keep an
idle refresh token alive). ``next_check_at`` carries a per-connection jitter
(``schedule.jitter_for``), so connections that expire together are refreshed
spread over the window, not in the same second.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.utils import timezone

from connectors.errors import ConnectionStateConflict, RemoteError
from connectors.models import Connection, ConnectionStatus
from connectors.registry import connector_get
from connectors.sdk.credentials import OAuth2
from connectors.services.connections import connection_test
from connectors.services.tokens import connection_refresh

logger = logging.getLogger(__name__)

#: Statuses the sweeper looks after; pending, disabled and needs_reauth wait for a person.
SWEPT = (ConnectionStatus.CONNECTED, ConnectionStatus.ERROR)


@dataclass
class SweepReport:
    checked: int = 0
    refreshed: int = 0
    tested: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def connections_due(*, limit: int = 500) -> list[int]:
    """Ids of this tenant's connections whose next check has come, oldest first."""
    return list(
        Connection.objects.filter(status__in=SWEPT, next_check_at__lte=timezone.now())
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )


def connection_health_check(*, connection_id: int) -> str:
    """Refresh or test one connection; returns what was done ("refreshed", "tested", ...)."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None or connection.status not in SWEPT:
        return "skipped"
    connector = connector_get(key=connection.connector)
    try:
        if isinstance(connector.credential, OAuth2):
            connection_refresh(connection=connection)
            return "refreshed"
        result = connection_test(connection=connection)
        return "tested" if result.ok else "failed"
    except (RemoteError, ConnectionStateConflict) as error:
        logger.info("health check of connection %s: %s", connection_id, error.code)
        return "failed"


def connections_sweep(*, limit: int = 500) -> SweepReport:
    """Check every due connection of the current tenant."""
    report = SweepReport()
    for connection_id in connections_due(limit=limit):
        outcome = connection_health_check(connection_id=connection_id)
        report.checked += 1
        if outcome == "refreshed":
            report.refreshed += 1
        elif outcome == "tested":
            report.tested += 1
        elif outcome == "failed":
            report.failed += 1
    return report
