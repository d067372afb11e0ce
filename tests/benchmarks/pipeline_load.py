"""Load generator of the pipeline benchmark, a process of its own (never the server's CPU
time on the benchmark's clock):

    python -m tests.benchmarks.pipeline_load post SPEC.json
    python -m tests.benchmarks.pipeline_load reference SPEC.json

``post``: Outbound Messages (``pipeline_messages``) for each target of the spec
(host, path, run, tenant, invoices, per_message), interleaved across targets,
POSTed by ``concurrency`` senders on a pooled aiohttp session; prints one JSON
line: count, started (epoch), seconds, statuses, p50 and p99 latency (ms).

``reference``: sends ``count`` four-task chains of ``pipeline_reference`` (one
one-notification message each) to the workers; prints the seconds it took to send.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import sys
import time
from collections import Counter

import aiohttp

from tests.benchmarks.pipeline_messages import tenant_messages


def _requests(spec: dict) -> list[tuple[str, str, bytes]]:
    per_target = [
        [
            (target["host"], target["path"], body)
            for body in tenant_messages(
                spec["run"], target["tenant"], target["invoices"], spec["per_message"]
            )
        ]
        for target in spec["targets"]
    ]
    interleaved = itertools.zip_longest(*per_target)
    return [request for row in interleaved for request in row if request is not None]


async def _post_all(base: str, requests: list, concurrency: int) -> tuple[Counter, list[float]]:
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    pending = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def sender() -> None:
            for host, path, body in pending:
                started = time.perf_counter()
                async with session.post(
                    base + path,
                    data=body,
                    headers={"Host": host, "Content-Type": "text/xml; charset=utf-8"},
                ) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses[response.status] += 1

        await asyncio.gather(*(sender() for _ in range(concurrency)))
    return statuses, latencies


def post(spec: dict) -> dict:
    requests = _requests(spec)
    started_at = time.time()
    started = time.perf_counter()
    statuses, latencies = asyncio.run(_post_all(spec["base"], requests, spec["concurrency"]))
    seconds = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        "count": len(requests),
        "started": started_at,
        "seconds": seconds,
        "statuses": {str(k): v for k, v in statuses.items()},
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
    }


def reference(spec: dict) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.benchmarks.pipeline_bench_settings")
    import django

    django.setup()
    from tests.benchmarks.pipeline_reference import reference_chain

    bodies = tenant_messages(spec["run"], 0, spec["count"], 1)
    started_at = time.time()
    started = time.perf_counter()
    for body in bodies:
        reference_chain(
            body.decode(),
            customer_id=spec["customer_id"],
            base_url=spec["base_url"],
            token=spec["token"],
        ).apply_async()
    return {"count": len(bodies), "started": started_at, "seconds": time.perf_counter() - started}


def main() -> None:
    mode, path = sys.argv[1:3]
    with open(path) as spec_file:
        spec = json.load(spec_file)
    result = post(spec) if mode == "post" else reference(spec)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
