"""What the chaos run counts in the database; tenants are wired by ``tests.pipeline.wiring``."""

from __future__ import annotations

from django.db import connection

from tests.pipeline.wiring import Wired, tenant_wire

__all__ = ["Wired", "counts", "dedupe_keys", "tenant_wire"]


def counts(wired: list[Wired], table: str, column: str = "status") -> dict[str, int]:
    """Rows of a pipeline table by ``column`` over the tenants, in one query."""
    parts = [
        f'SELECT {column} AS k, count(*) AS n FROM "{w.schema}".{table} GROUP BY 1'  # noqa: S608
        for w in wired
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT k, sum(n) FROM ({' UNION ALL '.join(parts)}) AS c GROUP BY k"  # noqa: S608
        )
        return {str(k): int(n) for k, n in cursor.fetchall()}


def dedupe_keys(wired: Wired) -> set[str]:
    """The tenant's stored messages, by the gateway's dedupe key."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT dedupe_key FROM "{wired.schema}".pipeline_inboundmessage')  # noqa: S608
        return {row[0] for row in cursor.fetchall()}
