"""L2: raw messages → replica records, upserted by (connection, object, external id).

A batch of messages is parsed by their connectors' parsers; the records are
compared with what is stored in one query and written with one bulk insert
and one bulk update. An older ``source_version`` never overwrites a newer
one; the same version again changes nothing (a re-sent notification).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from connectors.registry import connector_get
from connectors.sdk.interfaces import ReplicaRecord as Parsed
from nexiom.bulk import rows_update
from nexiom.correlation import correlated
from nexiom.errors import DomainError
from pipeline.models import InboundMessage, ReplicaRecord
from pipeline.services.gateway import received_event
from sync_history.models import EventStatus, Layer, SyncEvent
from sync_history.services import Event, events_record

logger = logging.getLogger(__name__)


def messages_parse(*, message_ids: list[int]) -> list[int]:
    """Parse the stored messages among ``message_ids``; returns replica ids that changed."""
    started = time.monotonic()
    with transaction.atomic():
        # Only the message rows are locked (``of``), and with FOR NO KEY UPDATE: the
        # gateway's inserts hold a KEY SHARE lock on the connection row until they
        # commit, and a plain FOR UPDATE SKIP LOCKED joined to it would silently skip
        # every message of a connection that is receiving (lost until the sweeper).
        messages = list(
            InboundMessage.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
            .filter(pk__in=message_ids, status=InboundMessage.Status.STORED)
            .select_related("connection")
        )
        if not messages:
            return []
        # The gateway's "received" row of each message, once (a replay parses it again).
        recorded = _recorded(messages)
        events: list[Event] = [received_event(m) for m in messages if m.pk not in recorded]
        parsed: list[tuple[InboundMessage, Parsed]] = []
        failed: list[InboundMessage] = []
        for message in correlated(messages, lambda m: m.correlation_id):
            try:
                connector = connector_get(key=message.connection.connector)
                records = connector.parser.parse(
                    bytes(message.body or b""), content_type=message.content_type
                )
            except (DomainError, ValueError) as error:
                message.status, message.error = InboundMessage.Status.FAILED, str(error)[:2000]
                failed.append(message)
                events.append(_message_event(message, EventStatus.FAILED, error))
                continue
            parsed.extend((message, record) for record in records)
        changed = _upsert(parsed, events)
        now = timezone.now()
        for message in messages:
            if message not in failed:
                message.status = InboundMessage.Status.PARSED
            message.processed_at = now
        rows_update(messages, ["status", "error", "processed_at"])
        elapsed = int((time.monotonic() - started) * 1000 / max(1, len(parsed) or 1))
        for event in events:
            event.duration_ms = elapsed
        events_record(events)
    return changed


def _upsert(parsed: list[tuple[InboundMessage, Parsed]], events: list[Event]) -> list[int]:
    # Within one batch the newest version of each record wins; then against the table.
    newest: dict[tuple, tuple[InboundMessage, Parsed]] = {}
    for message, record in parsed:
        identity = (message.connection_id, record.object_type, record.external_id)
        held = newest.get(identity)
        if held is None or record.source_version >= held[1].source_version:
            newest[identity] = (message, record)
    # Per (connection, object type), so the lookup uses the whole replica_identity index
    # (with the connection alone it read every replica of the connection).
    by_identity: dict[tuple[int, str], list[str]] = defaultdict(list)
    for connection_id, object_type, external_id in newest:
        by_identity[(connection_id, object_type)].append(external_id)
    existing = {}
    for (connection_id, object_type), external_ids in by_identity.items():
        for row in ReplicaRecord.objects.select_for_update().filter(
            connection_id=connection_id, object_type=object_type, external_id__in=external_ids
        ):
            existing[(row.connection_id, row.object_type, row.external_id)] = row
    now = timezone.now()
    inserts, updates = [], []
    for identity, (message, record) in newest.items():
        row = existing.get(identity)
        event = Event(
            layer=Layer.REPLICA,
            status=EventStatus.SUCCEEDED,
            message_id=message.pk,
            connection_id=message.connection_id,
            correlation_id=message.correlation_id,
            external_id=record.external_id,
            detail={
                "object_type": record.object_type,
                "version": record.source_version,
                "replica": record.data,  # the layer's output: the lineage's snapshot
            },
        )
        if row is None:
            row = ReplicaRecord(
                connection_id=message.connection_id,
                object_type=record.object_type,
                external_id=record.external_id,
                source_version=record.source_version,
                notification_id=record.notification_id,
                message=message,
                data=record.data,
                updated=now,
            )
            inserts.append((row, event))
        elif record.source_version > row.source_version:
            row.source_version = record.source_version
            row.notification_id, row.message, row.data, row.updated = (
                record.notification_id,
                message,
                record.data,
                now,
            )
            updates.append((row, event))
        else:
            event.status = EventStatus.SKIPPED
            event.record_id = row.pk
            event.detail["reason"] = (
                "same version again"
                if record.source_version == row.source_version
                else f"older than the stored version {row.source_version}"
            )
            events.append(event)
    ReplicaRecord.objects.bulk_create([row for row, _ in inserts])
    rows_update(
        [row for row, _ in updates],
        ["source_version", "notification_id", "message", "data", "updated"],
    )
    changed = []
    for row, event in [*inserts, *updates]:
        event.record_id = row.pk
        events.append(event)
        changed.append(row.pk)
    return changed


def _recorded(messages: list[InboundMessage]) -> set[int]:
    """The messages whose "received" row exists already."""
    return set(
        SyncEvent.objects.filter(
            message_id__in=[m.pk for m in messages],
            layer=Layer.GATEWAY,
            status=EventStatus.RECEIVED,
        ).values_list("message_id", flat=True)
    )


def _message_event(message: InboundMessage, status: EventStatus, error: Exception) -> Event:
    return Event(
        layer=Layer.REPLICA,
        status=status,
        message_id=message.pk,
        connection_id=message.connection_id,
        correlation_id=message.correlation_id,
        error_code=getattr(error, "code", type(error).__name__)[:50],
        error=str(error),
    )
