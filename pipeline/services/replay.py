"""Replaying records from a chosen layer, as sync_history asks (by task name, with ids).

Each replay resets just enough state for that layer to run again, then
queues the ids there; the layers after it follow as they always do:

- ``replica`` (L2): the record's raw message is parsed again (the stored
  bytes; the source is not asked);
- ``normalize`` (L3): the stored replica is mapped again (e.g. after a
  mapping fix);
- ``outbound`` (L4): the canonical record meets the routes again (a
  dead-lettered payload is rebuilt, e.g. after a route's item mapping fix);
- ``delivery`` (L5): the delivery is sent again now.

A replay never creates a duplicate at the target: a delivery that already
reached it is sent as an update of the same object, and creates carry the
idempotency key of their source version.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pipeline.models import CanonicalRecord, Delivery, InboundMessage, ReplicaRecord

LAYERS = ("replica", "normalize", "outbound", "delivery")
#: Marks state a replay reset (never a real source version: those are timestamps).
REPLAYED = ""


def records_replay(*, layer: str, record_ids: list[int]) -> dict[str, list[int]]:
    """Reset the records' state from ``layer`` on; returns {pipeline layer: ids to queue}.

    Every layer after the chosen one is reset too, so the replayed output
    flows all the way to the target even when the source version is the same.
    """
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}")
    replicas = ReplicaRecord.objects.filter(pk__in=record_ids)
    canonicals = CanonicalRecord.objects.filter(replica__in=replicas)
    deliveries = Delivery.objects.filter(canonical__in=canonicals)
    start = LAYERS.index(layer)
    with transaction.atomic():
        if start <= LAYERS.index("normalize"):
            canonicals.update(source_version=REPLAYED)
        if start <= LAYERS.index("outbound"):
            canonicals.update(routed_version=REPLAYED)
            # A delivered record is sent again as an update of the same target object.
            deliveries.update(source_version=REPLAYED, delivered_version=REPLAYED)
        deliveries.update(
            status=Delivery.Status.PENDING,
            attempts=0,
            next_attempt_at=None,
            claimed_until=None,
            updated=timezone.now(),
        )
        if layer == "replica":
            message_ids = list(
                replicas.exclude(message__isnull=True)
                .exclude(message__body__isnull=True)
                .values_list("message_id", flat=True)
                .distinct()
            )
            replicas.update(source_version=REPLAYED)
            InboundMessage.objects.filter(pk__in=message_ids).update(
                status=InboundMessage.Status.STORED, processed_at=None
            )
            return {"l2": message_ids}
        if layer == "normalize":
            return {"l3": list(replicas.values_list("pk", flat=True))}
        if layer == "outbound":
            return {"l4": list(canonicals.values_list("pk", flat=True))}
        return {"l5": list(deliveries.values_list("pk", flat=True))}


def records_discard(*, record_ids: list[int]) -> int:
    """Stop trying: the records' pending or retrying deliveries become dead letters."""
    return (
        Delivery.objects.filter(canonical__replica__in=record_ids)
        .filter(Q(status=Delivery.Status.PENDING) | Q(status=Delivery.Status.RETRYING))
        .update(status=Delivery.Status.DEAD, next_attempt_at=None, last_error="Discarded.")
    )
