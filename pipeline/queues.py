"""Coalescing work queues between the layers: many ids in, few Celery tasks out.

One Celery task per record per layer costs ~9 ms of CPU each (DESIGN.md, cost
model); the work itself is ~1.5 ms. So a layer never sends a task per record:
it pushes ids onto a Redis list of the next layer (per tenant), and at most
one drain task per (tenant, layer) is in flight. The drain pops a batch,
works on it with bulk queries, and sends itself again while ids remain.

Redis is not the source of truth: an id lost with Redis (a restart, a worker
killed after popping) is still in PostgreSQL in its waiting state, and the
pipeline's sweeper (``pipeline.sweep``) pushes such rows again. Pushing an id
twice is harmless: every layer skips what is already done.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import redis
from django.conf import settings
from django.db import connection


def _flag_ttl_ms() -> int:
    """A drain in flight keeps its flag this long (``NEXIOM_PIPELINE_FLAG_SECONDS``, 30 s);
    if its worker dies the flag expires and the next push (or the sweeper) sends a new drain."""
    return int(settings.NEXIOM_PIPELINE_FLAG_SECONDS * 1000)


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def _key(layer: str, schema: str | None = None) -> str:
    return f"nexiom:pipeline:{schema or connection.schema_name}:{layer}"


def layer_push(layer: str, ids: Iterable[int], *, send) -> int:
    """Queue ids for ``layer`` in the current tenant; ``send(backlog)`` starts a drain if
    none runs (``backlog``: the ids now waiting, these included)."""
    ids = [int(i) for i in ids]
    if not ids:
        return 0
    key = _key(layer)
    # One round trip for both: the push, and the claim of the drain flag.
    pipe = _redis().pipeline(transaction=False)
    pipe.rpush(key, *ids)
    pipe.set(f"{key}:draining", 1, nx=True, px=_flag_ttl_ms())
    backlog, claimed = pipe.execute()
    if claimed:
        send(int(backlog))
    return len(ids)


def layer_pop(layer: str, *, limit: int) -> list[int]:
    """Up to ``limit`` ids for this layer (distinct, in arrival order); refreshes the flag."""
    key = _key(layer)
    pipe = _redis().pipeline(transaction=False)
    pipe.lpop(key, limit)
    pipe.pexpire(f"{key}:draining", _flag_ttl_ms())
    raw = pipe.execute()[0] or []
    return list(dict.fromkeys(int(value) for value in raw))


def layer_drain_done(layer: str, *, send) -> bool:
    """Called by a drain that found its queue empty: release the flag, unless ids arrived.

    Returns whether another drain was sent (ids came in between the last pop
    and the release, and nobody else will send one for them).
    """
    key = _key(layer)
    client = _redis()
    client.delete(f"{key}:draining")
    if client.llen(key) and client.set(f"{key}:draining", 1, nx=True, px=_flag_ttl_ms()):
        send()
        return True
    return False


def layer_backlog(layer: str, schema: str | None = None) -> int:
    return int(_redis().llen(_key(layer, schema)))
