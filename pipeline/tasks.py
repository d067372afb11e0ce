"""The pipeline's Celery tasks: one drain per layer, each working on a batch.

Tasks carry no payload: each pops ids from its layer's queue
(``pipeline.queues``), calls the layer's service once for the batch, and
pushes what changed to the next layer. The tenant comes in the headers.
Delivery runs on its own queue, so slow deliveries never starve parsing.
"""

from __future__ import annotations

import time

from django.conf import settings

from nexiom import metrics
from nexiom.celery import app
from pipeline import queues
from pipeline.services.normalize import replicas_normalize
from pipeline.services.replica import messages_parse

L2, L3, L4, L5 = "l2", "l3", "l4", "l5"
#: Stable names: sync_history starts a layer by name for a replay (it never imports us).
TASK_NAMES = {
    L2: "pipeline.l2_replica",
    L3: "pipeline.l3_normalize",
    L4: "pipeline.l4_outbound",
    L5: "pipeline.l5_deliver",
}


def batch_size(layer: str) -> int:
    return settings.NEXIOM_PIPELINE_BATCH.get(layer, 100)


def enqueue(layer: str, ids: list[int]) -> int:
    """Queue ids for a layer of the current tenant (starting its drain if none runs).

    A drain started for a queue holding less than a batch lingers
    (``NEXIOM_PIPELINE_LINGER_SECONDS``) so that the ids arriving meanwhile share its
    task; with a batch or more waiting (a burst, a 100-notification message) it starts
    at once.
    """
    task = app.tasks[TASK_NAMES[layer]]

    def send(backlog: int) -> None:
        linger = settings.NEXIOM_PIPELINE_LINGER_SECONDS
        task.apply_async(countdown=None if backlog >= batch_size(layer) else linger or None)

    return queues.layer_push(layer, ids, send=send)


#: A drain keeps popping batches for about this long before it hands over to a fresh
#: task: one Celery task (~9 ms of CPU, DESIGN.md) carries many batches, and other
#: tenants' drains still get their turn on the worker every second or so.
DRAIN_BUDGET_SECONDS = 1.0


def _drain(layer: str, work, next_layer: str | None) -> int:
    cpu_started = time.process_time()
    done = 0
    try:
        done = _drain_batches(layer, work, next_layer)
        return done
    finally:  # the layer's CPU per record, for operators and `make bench` (nexiom.metrics)
        metrics.drain_observe(
            layer=layer, records=done, cpu_seconds=time.process_time() - cpu_started
        )


def _drain_batches(layer: str, work, next_layer: str | None) -> int:
    task = app.tasks[TASK_NAMES[layer]]
    deadline = time.monotonic() + DRAIN_BUDGET_SECONDS
    done = 0
    while True:
        ids = queues.layer_pop(layer, limit=batch_size(layer))
        if not ids:  # an empty pop releases the flag (or sends a drain for late arrivals)
            queues.layer_drain_done(layer, send=lambda: task.apply_async())
            return done
        produced = work(ids)
        if next_layer and produced:
            enqueue(next_layer, produced)
        done += len(ids)
        if time.monotonic() >= deadline:
            task.apply_async()  # the flag stays ours: the next drain goes on
            return done


@app.task(name=TASK_NAMES[L2])
def l2_replica() -> int:
    return _drain(L2, lambda ids: messages_parse(message_ids=ids), L3)


@app.task(name=TASK_NAMES[L3])
def l3_normalize() -> int:
    return _drain(L3, lambda ids: replicas_normalize(replica_ids=ids), L4)


@app.task(name=TASK_NAMES[L4])
def l4_outbound() -> int:
    from pipeline.services.outbound import canonicals_route

    return _drain(L4, lambda ids: canonicals_route(canonical_ids=ids), L5)


@app.task(name=TASK_NAMES[L5])
def l5_deliver() -> int:
    from pipeline.services.delivery import deliveries_send

    def work(ids: list[int]) -> list[int]:
        retries = deliveries_send(delivery_ids=ids)
        for delivery_id, delay in retries:
            if delay <= settings.CELERY_MAX_COUNTDOWN_SECONDS:
                l5_later.apply_async(args=[[delivery_id]], countdown=delay)
            # longer waits are the sweeper's
        return []

    return _drain(L5, work, None)


@app.task(name="pipeline.l5_later")
def l5_later(delivery_ids: list[int]) -> int:
    """A retry's time has come: queue the deliveries again (they carry only ids)."""
    return enqueue(L5, delivery_ids)


@app.task(name="pipeline.sweep", tenant_required=False)
def sweep() -> int:
    """Beat: one tenant sweep per active tenant (sent from its schema)."""
    from django_tenants.utils import tenant_context

    from tenants.selectors import tenants_active

    sent = 0
    for tenant in tenants_active():
        with tenant_context(tenant):
            sweep_tenant.delay()
        sent += 1
    return sent


@app.task(name="pipeline.sweep_tenant")
def sweep_tenant() -> dict[str, int]:
    """Queue again whatever a layer still owes (see pipeline.services.sweep)."""
    from pipeline.services.sweep import pipeline_owed

    owed = pipeline_owed()
    return {
        "messages": enqueue(L2, owed.messages),
        "replicas": enqueue(L3, owed.replicas),
        "canonicals": enqueue(L4, owed.canonicals),
        "deliveries": enqueue(L5, owed.deliveries),
    }


@app.task(name="pipeline.replay")
def replay(layer: str, record_ids: list[int]) -> dict[str, int]:
    """Replay records from a layer (sync_history sends this by name; ids only)."""
    from pipeline.services.replay import records_replay

    queued = records_replay(layer=layer, record_ids=record_ids)
    return {name: enqueue(name, ids) for name, ids in queued.items()}


@app.task(name="pipeline.discard")
def discard(record_ids: list[int]) -> int:
    """Stop retrying the records' deliveries (they become dead letters)."""
    from pipeline.services.replay import records_discard

    return records_discard(record_ids=record_ids)


@app.task(name="pipeline.prune_raw")
def prune_raw(days: int) -> int:
    """Drop raw message bodies older than ``days`` (parsed ones only; sync_history asks)."""
    from pipeline.services.retention import raw_messages_prune

    return raw_messages_prune(older_than_days=days)
