"""L3: replica records → canonical records, by the source connector's mapper.

A record whose fields are missing or invalid fails alone (status ``invalid``
with the mapper's readable error, and a failed history row); the rest of the
batch goes on.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from connectors.registry import connector_get
from nexiom.bulk import rows_update
from nexiom.correlation import correlated
from nexiom.errors import DomainError
from pipeline.models import CanonicalRecord, ReplicaRecord
from pipeline.selectors import message_correlations
from sync_history.models import EventStatus, Layer
from sync_history.services import Event, events_record


def canonical_dump(record: Any) -> tuple[str, int, dict]:
    """(kind, schema version, JSON data) of a canonical record of ``connectors.canonical``."""
    kind = getattr(record, "kind", None) or type(record).__name__.lower()
    version = int(getattr(record, "schema_version", 1))
    if hasattr(record, "model_dump"):
        data = record.model_dump(mode="json")
    elif hasattr(record, "to_json"):
        data = record.to_json()
    else:  # pragma: no cover - every canonical type has one of the two
        raise TypeError(f"cannot serialize {type(record).__name__}")
    return str(kind), version, data


def replicas_normalize(*, replica_ids: list[int]) -> list[int]:
    """Map the replicas; returns ids of canonical records that are valid and changed."""
    started = time.monotonic()
    with transaction.atomic():
        replicas = list(
            ReplicaRecord.objects.select_related("connection")
            .filter(pk__in=replica_ids)
            .order_by("pk")
        )
        if not replicas:
            return []
        held = {
            row.replica_id: row
            for row in CanonicalRecord.objects.select_for_update().filter(replica__in=replicas)
        }
        now = timezone.now()
        inserts, updates, events, valid = [], [], [], []
        # Events made in the loop take the bound id (sync_history.services.Event).
        ids = message_correlations(replica.message_id for replica in replicas)
        for replica in correlated(replicas, lambda r: ids.get(r.message_id, "")):
            row = held.get(replica.pk) or CanonicalRecord(replica=replica)
            if row.pk and row.source_version == replica.source_version and row.status == "valid":
                events.append(_event(replica, EventStatus.SKIPPED, detail={"reason": "unchanged"}))
                continue
            try:
                connector = connector_get(key=replica.connection.connector)
                canonical = connector.mapper.to_canonical(_parsed(replica))
                row.kind, row.schema_version, row.data = canonical_dump(canonical)
                row.status, row.error = CanonicalRecord.Status.VALID, ""
                events.append(
                    _event(
                        replica,
                        EventStatus.SUCCEEDED,
                        reference=_number(row.data),
                        detail={"canonical": row.data},  # the lineage's snapshot
                    )
                )
            except (DomainError, ValueError) as error:
                row.kind = row.kind or "unknown"
                row.status, row.error = CanonicalRecord.Status.INVALID, str(error)[:4000]
                events.append(
                    _event(
                        replica,
                        EventStatus.FAILED,
                        error_code=getattr(error, "code", "record_invalid"),
                        error=str(error),
                        detail={"fields": getattr(error, "fields", {})},
                    )
                )
            row.source_version, row.updated = replica.source_version, now
            (updates if row.pk else inserts).append(row)
        CanonicalRecord.objects.bulk_create(inserts)
        rows_update(
            updates,
            ["kind", "schema_version", "data", "status", "error", "source_version", "updated"],
        )
        valid = [row.pk for row in [*inserts, *updates] if row.status == "valid"]
        per_record = int((time.monotonic() - started) * 1000 / len(replicas))
        for event in events:
            event.duration_ms = per_record
        events_record(events)
    return valid


def _parsed(replica: ReplicaRecord):
    from connectors.sdk.interfaces import ReplicaRecord as Parsed

    return Parsed(
        object_type=replica.object_type,
        external_id=replica.external_id,
        data=replica.data,
        source_version=replica.source_version,
        notification_id=replica.notification_id,
    )


def _number(data: dict) -> str:
    return str(data.get("number") or data.get("source_id") or "")[:100]


def _event(replica: ReplicaRecord, status: EventStatus, **fields) -> Event:
    return Event(
        layer=Layer.NORMALIZE,
        status=status,
        message_id=replica.message_id,
        record_id=replica.pk,
        connection_id=replica.connection_id,
        external_id=replica.external_id,
        **fields,
    )
