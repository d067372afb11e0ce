"""The sweeper: whatever waits in PostgreSQL but lost its place in Redis is queued again.

The coalescing queues (``pipeline.queues``) live in Redis, which may restart
or lose ids a dying worker had popped; the truth is in the tables. Every few
seconds, per tenant, this finds rows still owed by a layer — messages stored
but not parsed, replicas newer than their canonical record, canonical
records not routed at their version, deliveries due and unclaimed — and
pushes their ids again. Layers skip what is already done, so a row pushed
twice costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from pipeline.models import CanonicalRecord, Delivery, InboundMessage, ReplicaRecord
from pipeline.services.outbound import deliveries_due_filter

LIMIT = 5000


@dataclass(frozen=True)
class Owed:
    messages: list[int]
    replicas: list[int]
    canonicals: list[int]
    deliveries: list[int]


def pipeline_owed(*, now=None) -> Owed:
    now = now or timezone.now()
    # Rows younger than NEXIOM_SWEEP_GRACE_SECONDS are in flight, not lost.
    settled = now - timedelta(seconds=settings.NEXIOM_SWEEP_GRACE_SECONDS)
    messages = InboundMessage.objects.filter(
        status=InboundMessage.Status.STORED, received_at__lte=settled
    ).values_list("pk", flat=True)[:LIMIT]
    replicas = (
        ReplicaRecord.objects.filter(updated__lte=settled)
        .filter(Q(canonical__isnull=True) | ~Q(canonical__source_version=F("source_version")))
        .values_list("pk", flat=True)[:LIMIT]
    )
    canonicals = (
        CanonicalRecord.objects.filter(status=CanonicalRecord.Status.VALID, updated__lte=settled)
        .exclude(routed_version=F("source_version"))
        .values_list("pk", flat=True)[:LIMIT]
    )
    deliveries = (
        Delivery.objects.filter(deliveries_due_filter(now))
        .filter(Q(next_attempt_at__isnull=False) | Q(updated__lte=settled))
        .values_list("pk", flat=True)[:LIMIT]
    )
    return Owed(list(messages), list(replicas), list(canonicals), list(deliveries))
