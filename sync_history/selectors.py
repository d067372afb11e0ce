"""Reading the history: filtered lists that stay fast at millions of rows, and lineage.

Lists are ordered by (created, id) descending and filtered on indexed
columns only; the Desk and the API page through them without counting the
whole table (see ``EstimatedCountPaginator`` in ``admin.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from sync_history.errors import EventNotFound
from sync_history.models import Layer, SyncEvent

LAYER_ORDER = [Layer.GATEWAY, Layer.REPLICA, Layer.NORMALIZE, Layer.OUTBOUND, Layer.DELIVERY]


def events_list(
    *,
    status: str | None = None,
    layer: str | None = None,
    connection: int | None = None,
    route: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
) -> QuerySet[SyncEvent]:
    events = SyncEvent.objects.order_by("-created", "-id")
    if status:
        events = events.filter(status=status)
    if layer:
        events = events.filter(layer=layer)
    if connection:
        events = events.filter(connection_id=connection)
    if route:
        events = events.filter(route_id=route)
    if since:
        events = events.filter(created__gte=since)
    if until:
        events = events.filter(created__lt=until)
    if search:
        term = search.strip()[:100]
        events = events.filter(Q(external_id=term) | Q(reference=term))
    return events


def event_get(*, pk: object) -> SyncEvent:
    try:
        key = int(str(pk))
    except ValueError:
        raise EventNotFound() from None
    event = SyncEvent.objects.filter(pk=key).first()
    if event is None:
        raise EventNotFound()
    return event


@dataclass(frozen=True)
class Lineage:
    """A record's way through the layers: every event, and each layer's latest snapshot."""

    record_id: int | None
    message_ids: list[int]
    events: list[SyncEvent]
    snapshots: dict[str, dict]

    def by_layer(self) -> list[tuple[str, list[SyncEvent]]]:
        grouped = {layer.value: [] for layer in LAYER_ORDER}
        for event in self.events:
            grouped.setdefault(event.layer, []).append(event)
        return [(layer, grouped[layer]) for layer in grouped if grouped[layer]]


def lineage_of(event: SyncEvent) -> Lineage:
    """The whole lineage around one event: its record's events and its message's events."""
    record_events = (
        list(SyncEvent.objects.filter(record_id=event.record_id).order_by("created", "id"))
        if event.record_id
        else [event]
    )
    message_ids = sorted({e.message_id for e in record_events if e.message_id})
    gateway = list(
        SyncEvent.objects.filter(message_id__in=message_ids, record_id__isnull=True).order_by(
            "created", "id"
        )
    )
    events = sorted([*gateway, *record_events], key=lambda e: (e.created, e.id))
    snapshots: dict[str, dict] = {}
    for item in events:
        for name in ("raw", "replica", "canonical", "payload", "response"):
            if name in item.detail:
                snapshots[name] = item.detail[name]
    return Lineage(event.record_id, message_ids, events, snapshots)
