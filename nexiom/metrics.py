"""Prometheus metrics, recorded in three places only: history events, token refreshes
and the pipeline's drain tasks.

Every pipeline layer already says what it did as ``sync_history`` events
(layer, status, duration), so ``sync_history.services.events_record`` calls
``events_observe`` once per batch, after the batch is committed, and every
layer is counted without a line in the layer itself. Token refreshes are
counted where they happen (``connectors.services.tokens``). Each drain task of
the pipeline (``pipeline.tasks``) adds its CPU time and the ids it took, so the
CPU a layer costs per record is one division away.

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

DRAIN_TASKS = Counter(
    "nexiom_pipeline_drain_tasks",
    "Drain tasks run, by pipeline layer (l2 replica, l3 normalize, l4 outbound, l5 delivery).",
    ["layer"],
)
DRAIN_RECORDS = Counter(
    "nexiom_pipeline_drain_records",
    "Ids the drain tasks took off their layer's queue, by pipeline layer.",
    ["layer"],
)
DRAIN_CPU = Counter(
    "nexiom_pipeline_drain_cpu_seconds",
    "CPU time (user + system, of the worker process) the drain tasks spent, by pipeline layer.",
    ["layer"],
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


def drain_observe(*, layer: str, records: int, cpu_seconds: float) -> None:
    try:
        DRAIN_TASKS.labels(layer=layer).inc()
        DRAIN_RECORDS.labels(layer=layer).inc(records)
        DRAIN_CPU.labels(layer=layer).inc(max(0.0, cpu_seconds))
    except Exception:
        logger.warning("metrics: drain not counted", exc_info=True)
