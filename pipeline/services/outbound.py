"""L4: each valid canonical record meets the enabled routes from its source.

A delivery row per (record, route) says which source version must reach the
target. The target's outbound builds and validates the payload now (every
reference but the ones resolved at delivery, e.g. the QuickBooks customer),
so a record the target would refuse is dead-lettered here with the element
at fault instead of costing a request. An unchanged re-send, or an older
version arriving late, changes nothing.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors.canonical import canonical_from_json, dumps_exact
from connectors.registry import connector_get
from nexiom.bulk import rows_update
from nexiom.correlation import correlated
from nexiom.errors import DomainError
from pipeline.models import CanonicalRecord, Delivery, Route
from pipeline.selectors import message_correlations
from sync_history.models import EventStatus, Layer
from sync_history.services import Event, events_record

#: Stands in for references L5 resolves (the check still needs a value there).
PENDING_REFERENCE = "pending"


def canonicals_route(*, canonical_ids: list[int]) -> list[int]:
    """Create or refresh deliveries; returns the ids of deliveries to send."""
    started = time.monotonic()
    with transaction.atomic():
        canonicals = list(
            CanonicalRecord.objects.select_related("replica")
            .filter(pk__in=canonical_ids, status=CanonicalRecord.Status.VALID)
            .order_by("pk")
        )
        if not canonicals:
            return []
        routes = defaultdict(list)
        sources = {c.replica.connection_id for c in canonicals}
        for route in Route.objects.select_related("target").filter(
            source_id__in=sources, enabled=True
        ):
            routes[(route.source_id, route.object_type)].append(route)
        held = {
            (d.canonical_id, d.route_id): d
            for d in Delivery.objects.select_for_update().filter(canonical__in=canonicals)
        }
        now = timezone.now()
        inserts, updates, events, pairs = [], [], [], []
        # Events made in the loop take the bound id (sync_history.services.Event).
        ids = message_correlations(c.replica.message_id for c in canonicals)
        for canonical in correlated(canonicals, lambda c: ids.get(c.replica.message_id, "")):
            for route in routes.get((canonical.replica.connection_id, canonical.kind), []):
                delivery = held.get((canonical.pk, route.pk))
                event = _event(canonical, route, delivery)
                if delivery is not None and delivery.source_version >= canonical.source_version:
                    event.status = EventStatus.SKIPPED
                    event.detail["reason"] = (
                        "unchanged"
                        if delivery.source_version == canonical.source_version
                        else f"older than {delivery.source_version}"
                    )
                    events.append(event)
                    continue
                delivery = delivery or Delivery(canonical=canonical, route=route)
                delivery.source_version = canonical.source_version
                delivery.attempts, delivery.next_attempt_at, delivery.updated = 0, None, now
                delivery.last_error = delivery.last_error_code = ""
                try:
                    event.detail["payload"] = _check(canonical, route)
                    delivery.status = Delivery.Status.PENDING
                    event.status = EventStatus.SUCCEEDED
                except DomainError as error:
                    delivery.status = Delivery.Status.DEAD
                    delivery.last_error_code, delivery.last_error = error.code, error.message
                    event.status, event.error_code, event.error = (
                        EventStatus.DEAD,
                        error.code,
                        error.message,
                    )
                    event.detail["fields"] = error.fields
                (updates if delivery.pk else inserts).append(delivery)
                events.append(event)
                pairs.append((delivery, event))
        for canonical in canonicals:
            canonical.routed_version = canonical.source_version
        rows_update(canonicals, ["routed_version"])
        Delivery.objects.bulk_create(inserts)
        rows_update(
            updates,
            [
                "source_version",
                "attempts",
                "next_attempt_at",
                "updated",
                "last_error",
                "last_error_code",
                "status",
            ],
        )
        per_record = int((time.monotonic() - started) * 1000 / len(canonicals))
        for delivery, event in pairs:
            event.delivery_id = delivery.pk
        for event in events:
            event.duration_ms = per_record
        events_record(events)
    return [d.pk for d in [*inserts, *updates] if d.status == Delivery.Status.PENDING]


def _check(canonical: CanonicalRecord, route: Route) -> dict:
    """Build (and so validate) the target payload; returns it for the lineage, JSON-able."""
    target = connector_get(key=route.target.connector)
    if target.outbound is None:
        return {}
    record = canonical_from_json(canonical.data)
    request = target.outbound.build(
        record,
        mapping=route.mapping,
        refs={"customer": PENDING_REFERENCE},
        tenant=db_connection.schema_name,
    )
    # Amounts stay exact text in the snapshot (never floats).
    return {
        "method": request.method,
        "path": request.path,
        "body": json.loads(dumps_exact(request.body), parse_float=str),
    }


def _event(canonical: CanonicalRecord, route: Route, delivery: Delivery | None) -> Event:
    return Event(
        layer=Layer.OUTBOUND,
        status=EventStatus.SUCCEEDED,
        message_id=canonical.replica.message_id,
        record_id=canonical.replica_id,
        delivery_id=delivery.pk if delivery else None,
        connection_id=route.target_id,
        route_id=route.pk,
        external_id=canonical.replica.external_id,
        reference=str(canonical.data.get("number", ""))[:100],
        detail={"version": canonical.source_version},
    )


def deliveries_due_filter(now) -> Q:
    """Deliveries waiting to be sent whose time has come and that no live worker holds."""
    return (
        Q(status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING])
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
    )
