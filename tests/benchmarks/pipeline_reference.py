"""The benchmark's reference: a bare chain of four Celery tasks per invoice.

parse → map → transform → POST, with the connector functions the pipeline
uses (the Revenova parser and mapper, the QuickBooks outbound, the same
pooled HTTP adapter), one task per record per step, payloads carried in the
messages, no database, no batching, no limiter. It is what the pipeline would
cost written the obvious way; the workers load it with ``--include``.

Each POST adds one to a Redis counter, so the benchmark knows when the last
invoice is in the sandbox without reading the sandbox's whole state.
"""

from __future__ import annotations

import functools

import redis
from django.conf import settings

from connectors.canonical import canonical_from_json, dumps_exact
from connectors.quickbooks.outbound import QuickBooksOutbound
from connectors.revenova.normalization import RevenovaMapper
from connectors.revenova.replica import RevenovaReplicaParser
from connectors.sdk.client import pooled_session
from connectors.sdk.interfaces import ReplicaRecord
from nexiom.celery import app
from pipeline.services.normalize import canonical_dump
from tests.pipeline.wiring import MAPPING

__all__ = ["COUNTER", "MAPPING", "reference_chain"]

COUNTER = "nexiom:bench:reference:posted"


@functools.cache
def _session():
    return pooled_session()


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@app.task(name="bench.ref_parse", tenant_required=False)
def ref_parse(raw: str) -> dict:
    (record,) = RevenovaReplicaParser().parse(raw.encode())
    return {
        "object_type": record.object_type,
        "external_id": record.external_id,
        "data": record.data,
        "source_version": record.source_version,
        "notification_id": record.notification_id,
    }


@app.task(name="bench.ref_map", tenant_required=False)
def ref_map(replica: dict) -> dict:
    canonical = RevenovaMapper().to_canonical(ReplicaRecord(**replica))
    return canonical_dump(canonical)[2]


@app.task(name="bench.ref_transform", tenant_required=False)
def ref_transform(canonical: dict, customer_id: str) -> dict:
    request = QuickBooksOutbound().build(
        canonical_from_json(canonical),
        mapping=MAPPING,
        refs={"customer": customer_id},
        tenant="reference",
    )
    return {"path": request.path, "params": request.params, "body": dumps_exact(request.body)}


@app.task(name="bench.ref_post", tenant_required=False)
def ref_post(request: dict, base_url: str, token: str) -> int:
    response = _session().post(
        f"{base_url.rstrip('/')}/{request['path']}",
        params={"minorversion": "75", **request["params"]},
        data=request["body"].encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=(5, 60),
    )
    response.raise_for_status()
    return _redis().incr(COUNTER)


def reference_chain(raw: str, *, customer_id: str, base_url: str, token: str):
    """The four tasks of one invoice, as one Celery chain."""
    return (
        ref_parse.s(raw) | ref_map.s() | ref_transform.s(customer_id) | ref_post.s(base_url, token)
    )
