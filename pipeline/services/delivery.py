"""L5: send due deliveries through the target connector, once each, within its limits.

A batch is claimed first (a short transaction stamps ``claimed_until`` on
rows no other worker holds), then delivered with no transaction open —
a token refresh inside must commit on its own — and the outcomes are
written in one short transaction at the end. A worker that dies mid-batch
lets its claims expire; the sweeper sends those deliveries again, and the
target's idempotency key (QuickBooks ``requestid``) makes the second send
change nothing.

Per outcome: delivered → the target's id, reference and version are kept
(and the cross reference); rate-limited → wait as told (``Retry-After``) or
back off; transient → back off with full jitter up to the attempt limit,
then dead letter; refused (4xx) or needs re-auth → dead letter at once,
with the target's code and message.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from connectors.canonical import canonical_from_json
from connectors.errors import NeedsReauth, RateLimited, RemoteError
from connectors.registry import connector_get
from connectors.sdk.interfaces import DeliveryTarget
from connectors.services import connection_client
from nexiom.bulk import rows_update
from nexiom.correlation import correlated
from nexiom.errors import DomainError
from pipeline.limiter import limit_for, limited
from pipeline.models import CrossReference, Delivery
from pipeline.selectors import message_correlations
from pipeline.services.outbound import deliveries_due_filter
from sync_history.models import EventStatus, Layer
from sync_history.services import Event, events_record

logger = logging.getLogger(__name__)

BACKOFF_BASE = 1.0


def claim_lease() -> timedelta:
    """How long a claim holds (``NEXIOM_DELIVERY_CLAIM_SECONDS``, 5 minutes by default)."""
    return timedelta(seconds=settings.NEXIOM_DELIVERY_CLAIM_SECONDS)


class BatchCrossReferences:
    """The target connection's cross references as a batch needs them: each one read once
    (by its unique index, never the whole table), what it learns written at the end."""

    def __init__(self, connection_id: int) -> None:
        self.connection_id = connection_id
        self._known: dict[tuple[str, str], str | None] = {}
        self._new: dict[tuple[str, str], str] = {}
        self._forgotten: set[tuple[str, str]] = set()

    def get(self, object_type: str, source_id: str) -> str | None:
        key = (object_type, source_id)
        if key not in self._known and key not in self._forgotten:
            self._known[key] = (
                CrossReference.objects.filter(
                    connection_id=self.connection_id, object_type=object_type, source_id=source_id
                )
                .values_list("target_id", flat=True)
                .first()
            )
        return self._known.get(key)

    def put(self, object_type: str, source_id: str, target_id: str) -> None:
        self._known[(object_type, source_id)] = target_id
        self._new[(object_type, source_id)] = target_id

    def forget(self, object_type: str, source_id: str) -> None:
        self._known.pop((object_type, source_id), None)
        self._new.pop((object_type, source_id), None)
        self._forgotten.add((object_type, source_id))

    def save(self) -> None:
        """Write what the batch learned: new ids (a re-learned one replaces the old), and
        drop the ones the target no longer knows."""
        for object_type, source_id in self._forgotten - set(self._new):
            CrossReference.objects.filter(
                connection_id=self.connection_id, object_type=object_type, source_id=source_id
            ).delete()
        # New ids are few (one per new customer): one statement each is fine.
        for (object_type, source_id), target_id in self._new.items():
            CrossReference.objects.update_or_create(
                connection_id=self.connection_id,
                object_type=object_type,
                source_id=source_id,
                defaults={"target_id": target_id},
            )


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt))."""
    ceiling = min(settings.NEXIOM_DELIVERY_DELAY_MAX, BACKOFF_BASE * 2**attempt)
    return random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret


def deliveries_claim(*, delivery_ids: list[int]) -> list[Delivery]:
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(deliveries_due_filter(now), pk__in=delivery_ids)
            .select_related("route", "route__target", "canonical", "canonical__replica")
            .order_by("pk")
        )
        Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(
            claimed_until=now + claim_lease()
        )
    return rows


def deliveries_send(*, delivery_ids: list[int]) -> list[tuple[int, float]]:
    """Deliver what is due among ``delivery_ids``; returns (id, seconds) of the retries, so
    the caller queues them again then (the sweeper would too, later)."""
    rows = deliveries_claim(delivery_ids=delivery_ids)
    if not rows:
        return []
    by_target = defaultdict(list)
    for delivery in rows:
        by_target[delivery.route.target_id].append(delivery)
    events: list[Event] = []
    xref_batches = []
    for deliveries in by_target.values():
        target = deliveries[0].route.target
        xrefs = BatchCrossReferences(target.pk)
        xref_batches.append(xrefs)
        _deliver_to(target, deliveries, xrefs, events)
    with transaction.atomic():
        rows_update(
            rows,
            [
                "status",
                "attempts",
                "next_attempt_at",
                "claimed_until",
                "delivered_version",
                "target_id",
                "target_reference",
                "target_version",
                "last_status_code",
                "last_error_code",
                "last_error",
                "updated",
            ],
        )
        for xrefs in xref_batches:
            xrefs.save()
        events_record(events)
    now = timezone.now()
    return [
        (d.pk, max(0.0, (d.next_attempt_at - now).total_seconds()))
        for d in rows
        if d.status == Delivery.Status.RETRYING and d.next_attempt_at is not None
    ]


def _deliver_to(target, deliveries: list[Delivery], xrefs, events: list[Event]) -> None:
    connector = connector_get(key=target.connector)
    limit = limit_for(connector=connector, connection=target)
    # Bound per delivery: its events, log lines and requests (X-Correlation-Id) carry it.
    ids = message_correlations(d.canonical.replica.message_id for d in deliveries)

    def each():
        return correlated(deliveries, lambda d: ids.get(d.canonical.replica.message_id, ""))

    try:
        client = connection_client(
            connection=target,
            reason=f"deliver {len(deliveries)} record(s)",
            throttle=(lambda: limited(limit)) if limit else None,
        )
    except DomainError as error:
        for delivery in each():
            _failed(delivery, error, events, dead=True)
        return
    schema = db_connection.schema_name
    for delivery in each():
        started = time.monotonic()
        delivery.attempts += 1
        try:
            current = (
                DeliveryTarget(
                    delivery.target_id, delivery.target_reference, delivery.target_version
                )
                if delivery.target_id
                else None
            )
            result = connector.deliverer.deliver(
                client,
                canonical_from_json(delivery.canonical.data),
                mapping=delivery.route.mapping,
                tenant=schema,
                current=current,
                xrefs=xrefs,
            )
        except RateLimited as error:
            # Retry-After is honoured, but never past the retry window (DELAY_MAX).
            wait = (
                min(error.retry_after, settings.NEXIOM_DELIVERY_DELAY_MAX)
                if error.retry_after is not None
                else None
            )
            _failed(delivery, error, events, wait=wait, started=started, count_attempt=False)
        except NeedsReauth as error:
            _failed(delivery, error, events, dead=True, started=started)
        except RemoteError as error:
            _failed(delivery, error, events, dead=not error.retryable, started=started)
        except DomainError as error:
            _failed(delivery, error, events, dead=True, started=started)
        else:
            _delivered(delivery, result, events, started)


def _delivered(delivery: Delivery, result: DeliveryTarget, events, started: float) -> None:
    now = timezone.now()
    delivery.status = Delivery.Status.DELIVERED
    delivery.delivered_version = delivery.source_version
    delivery.target_id, delivery.target_reference = result.target_id, result.reference
    delivery.target_version = result.version
    delivery.last_error = delivery.last_error_code = ""
    delivery.last_status_code = 200
    delivery.next_attempt_at = delivery.claimed_until = None
    delivery.updated = now
    events.append(
        _event(
            delivery,
            EventStatus.SUCCEEDED,
            started,
            reference=result.reference,
            detail={  # the target's answer, for the lineage
                "response": {
                    "target_id": result.target_id,
                    "reference": result.reference,
                    "version": result.version,
                }
            },
        )
    )


def _failed(
    delivery: Delivery,
    error: DomainError,
    events,
    *,
    dead: bool = False,
    wait: float | None = None,
    started: float | None = None,
    count_attempt: bool = True,
) -> None:
    now = timezone.now()
    if not count_attempt:
        delivery.attempts = max(0, delivery.attempts - 1)  # throttling is not the record's fault
    out_of_attempts = delivery.attempts >= settings.NEXIOM_DELIVERY_MAX_ATTEMPTS
    delivery.last_error_code = error.code[:50]
    delivery.last_error = error.message[:4000]
    delivery.last_status_code = error.status
    delivery.claimed_until = None
    delivery.updated = now
    if dead or out_of_attempts:
        delivery.status = Delivery.Status.DEAD
        delivery.next_attempt_at = None
        status = EventStatus.DEAD
    else:
        delay = wait if wait is not None else backoff_seconds(delivery.attempts)
        delivery.status = Delivery.Status.RETRYING
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        status = EventStatus.RETRYING
    events.append(
        _event(
            delivery,
            status,
            started,
            error_code=error.code,
            error=error.message,
            next_retry_at=delivery.next_attempt_at,
            detail={"provider_code": getattr(error, "provider_code", "")},
        )
    )


def _event(delivery: Delivery, status, started: float | None, **fields) -> Event:
    canonical = delivery.canonical
    return Event(
        layer=Layer.DELIVERY,
        status=status,
        message_id=canonical.replica.message_id,
        record_id=canonical.replica_id,
        delivery_id=delivery.pk,
        connection_id=delivery.route.target_id,
        route_id=delivery.route_id,
        external_id=canonical.replica.external_id,
        attempt=delivery.attempts or 1,
        duration_ms=int((time.monotonic() - started) * 1000) if started else 0,
        **fields,
    )
