"""Writing history: every layer calls ``events_record`` once per batch (one INSERT)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from sync_history.models import EventStatus, Layer, SyncEvent

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


def events_record(events: Iterable[Event]) -> int:
    """Append the events in one INSERT; returns how many were written."""
    now = timezone.now()
    rows = [
        SyncEvent(
            created=now,
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
        )
        for event in events
    ]
    SyncEvent.objects.bulk_create(rows)
    return len(rows)


def event_record(event: Event) -> None:
    events_record([event])
