"""Prometheus metrics, recorded in two places only: history events and token refreshes.

Every pipeline layer already says what it did as ``sync_history`` events
(layer, status, duration), so ``sync_history.services.events_record`` calls
``events_observe`` once per batch, after the batch is committed, and every
layer is counted without a line in the layer itself. Token refreshes are
counted where they happen (``connectors.services.tokens``).

No metric carries a tenant label: the series count is the product of the
label values, and tenants are unbounded (a thousand tenants times five
layers times seven statuses, and the histogram's buckets on top). What a
tenant's records did is in its sync history, which is per tenant already.
Labels here take values from fixed lists (layers, statuses, connectors).

Several processes record (gunicorn workers, Celery's prefork children): with
``PROMETHEUS_MULTIPROC_DIR`` set in their environment, prometheus_client
writes each process's values to files there, and ``/metrics`` on the web
merges them (``nexiom.metrics_view``). Without it, values live in this
process's registry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Histogram

logger = logging.getLogger(__name__)

#: Seconds; history durations are milliseconds, per record (L2-L4 spread a batch's time).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: Statuses that are work done (an attempt); received, skipped and refused events are not timed.
TIMED_STATUSES = frozenset({"succeeded", "failed", "retrying", "dead"})

SYNC_EVENTS = Counter(
    "nexiom_sync_events",
    "Pipeline history events written, by layer and status (throughput).",
    ["layer", "status"],
)
SYNC_DURATION = Histogram(
    "nexiom_sync_duration_seconds",
    "Time a layer spent per record, for events that did work (succeeded, failed, retrying, dead).",
    ["layer"],
    buckets=LATENCY_BUCKETS,
)
SYNC_RETRIES = Counter(
    "nexiom_sync_retries",
    "Records a layer will try again (events with status retrying).",
    ["layer"],
)
SYNC_DEAD_LETTERS = Counter(
    "nexiom_sync_dead_letters",
    "Records a layer gave up on (events with status dead).",
    ["layer"],
)
TOKEN_REFRESHES = Counter(
    "nexiom_token_refreshes",
    "Credential refreshes that called the provider, by connector and outcome.",
    ["connector", "outcome"],
)


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))


def events_observe(events: Iterable[Any]) -> None:
    """Count a committed batch of ``sync_history`` events; never raises into the pipeline."""
    try:
        for event in events:
            layer, status = _text(event.layer), _text(event.status)
            SYNC_EVENTS.labels(layer=layer, status=status).inc()
            if status in TIMED_STATUSES:
                SYNC_DURATION.labels(layer=layer).observe(max(0, event.duration_ms) / 1000)
            if status == "retrying":
                SYNC_RETRIES.labels(layer=layer).inc()
            elif status == "dead":
                SYNC_DEAD_LETTERS.labels(layer=layer).inc()
    except Exception:  # metrics must never fail a layer
        logger.warning("metrics: events not counted", exc_info=True)


def token_refresh_observe(*, connector: str, outcome: str) -> None:
    try:
        TOKEN_REFRESHES.labels(connector=connector, outcome=outcome).inc()
    except Exception:
        logger.warning("metrics: token refresh not counted", exc_info=True)
