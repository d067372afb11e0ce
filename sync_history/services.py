"""Writing history: every layer calls ``events_record`` once per batch (one INSERT)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from nexiom import metrics
from nexiom.correlation import correlation_current
from sync_history.models import EventStatus, Layer, SyncEvent

logger = logging.getLogger(__name__)

_ERROR_MAX = 4000


@dataclass
class Event:
    """What a layer says about one step; ``events_record`` turns a batch of them into rows."""

    layer: Layer
    status: EventStatus
    message_id: int | None = None
    record_id: int | None = None
    delivery_id: int | None = None
    connection_id: int | None = None
    route_id: int | None = None
    external_id: str = ""
    reference: str = ""
    attempt: int = 1
    duration_ms: int = 0
    error_code: str = ""
    error: str = ""
    next_retry_at: datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    #: The inbound message's id (nexiom.correlation); by default the one bound while the
    #: layer works on this record.
    correlation_id: str = field(default_factory=correlation_current)
    #: When it happened, if not now (a step recorded after the fact, with a later batch).
    at: datetime | None = None


def events_record(events: Iterable[Event]) -> int:
    """Append the events in one INSERT; returns how many were written."""
    now = timezone.now()
    rows = [
        SyncEvent(
            created=event.at or now,
            layer=event.layer,
            status=event.status,
            message_id=event.message_id,
            record_id=event.record_id,
            delivery_id=event.delivery_id,
            connection_id=event.connection_id,
            route_id=event.route_id,
            external_id=event.external_id[:100],
            reference=event.reference[:100],
            attempt=event.attempt,
            duration_ms=max(0, int(event.duration_ms)),
            error_code=event.error_code[:50],
            error=event.error[:_ERROR_MAX],
            next_retry_at=event.next_retry_at,
            detail=event.detail,
            correlation_id=event.correlation_id[:36],
        )
        for event in events
    ]
    SyncEvent.objects.bulk_create(rows)
    if logger.isEnabledFor(logging.DEBUG):
        for row in rows:
            logger.debug(
                "sync %s %s: message %s, record %s, delivery %s",
                row.layer,
                row.status,
                row.message_id,
                row.record_id,
                row.delivery_id,
                extra={"correlation_id": row.correlation_id},
            )
    # Counted once committed: a batch rolled back never happened (nexiom.metrics).
    transaction.on_commit(lambda: metrics.events_observe(rows))
    return len(rows)


def event_record(event: Event) -> None:
    events_record([event])


# --- replay and discard: started in the pipeline by stable task names ---------------------------

#: The layers a record can be replayed from, and the pipeline's task for it. sync_history sits
#: below the pipeline and never imports it: it sends these tasks by name, with ids only.
REPLAYABLE = ("replica", "normalize", "outbound", "delivery")
REPLAY_TASK = "pipeline.replay"
DISCARD_TASK = "pipeline.discard"


def history_replay(*, record_ids: list[int], layer: str, actor=None) -> int:
    """Replay the records from ``layer``; returns how many records were sent."""
    from nexiom.celery import app
    from sync_history.errors import ReplayInvalid

    if layer not in REPLAYABLE:
        raise ReplayInvalid(
            f"Replay from one of {', '.join(REPLAYABLE)}, not {layer!r}.",
            fields={"layer": [f"Choose one of {', '.join(REPLAYABLE)}."]},
        )
    ids = sorted({int(i) for i in record_ids if i is not None})
    if not ids:
        raise ReplayInvalid("No record to replay.", fields={"ids": ["Select records."]})
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        app.send_task(REPLAY_TASK, args=[layer, chunk])
    events_record(
        Event(
            layer=Layer(layer),
            status=EventStatus.REPLAY,
            record_id=record_id,
            detail={"replay": layer, "by": _who(actor)},
        )
        for record_id in ids
    )
    return len(ids)


def history_discard(*, record_ids: list[int], actor=None) -> int:
    from nexiom.celery import app

    ids = sorted({int(i) for i in record_ids if i is not None})
    if ids:
        app.send_task(DISCARD_TASK, args=[ids])
        events_record(
            Event(
                layer=Layer.DELIVERY,
                status=EventStatus.DEAD,
                record_id=record_id,
                error_code="discarded",
                error=f"Discarded by {_who(actor)}.",
            )
            for record_id in ids
        )
    return len(ids)


def _who(actor) -> str:
    if actor is None:
        return "the platform"
    return getattr(actor, "get_username", lambda: str(actor))()


# --- retention -------------------------------------------------------------------------------

#: The keys of ``SyncEvent.detail`` that hold payloads (pruned); the rest is the summary.
SNAPSHOT_KEYS = ("raw", "replica", "canonical", "payload", "response")
PRUNE_RAW_TASK = "pipeline.prune_raw"


def history_prune(*, older_than_days: int) -> int:
    """Strip payload snapshots from this tenant's events older than the retention; returns
    how many rows lost a snapshot. The raw messages go too (the pipeline's task, by name)."""
    from django.db import connection as db_connection

    from nexiom.celery import app

    cutoff = timezone.now() - timedelta(days=older_than_days)
    table = SyncEvent._meta.db_table
    keys = list(SNAPSHOT_KEYS)
    with db_connection.cursor() as cursor:
        # Postgres' jsonb "-" text[] removes keys; "?|" selects rows holding any of them.
        cursor.execute(
            f'UPDATE "{table}" SET "detail" = "detail" - %s::text[] '  # noqa: S608 - table name is ours
            'WHERE "created" < %s AND "detail" ?| %s::text[]',
            [keys, cutoff, keys],
        )
        pruned = cursor.rowcount
    app.send_task(PRUNE_RAW_TASK, args=[older_than_days])
    return pruned
