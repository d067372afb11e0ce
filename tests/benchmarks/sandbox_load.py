"""Load generator for the sandbox benchmark, run as its own process so the client
never competes with the sandbox for one interpreter:

    python -m tests.benchmarks.sandbox_load BASE_URL REALM ACCESS_TOKEN COUNT CONCURRENCY

Creates COUNT invoices for customer 58 with distinct requestids over a pooled
aiohttp session (CONCURRENCY connections, kept alive), after a short warm-up,
and prints one JSON line: {"count", "seconds", "statuses"}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections import Counter

import aiohttp

LINES = [
    {
        "Amount": amount,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": 1, "UnitPrice": amount},
    }
    for amount, item in ((1850.0, "21"), (412.5, "22"), (75.0, "23"), (100.0, "24"))
]


async def create_many(base: str, realm: str, token: str, count: int, concurrency: int) -> Counter:
    url = f"{base}/v3/company/{realm}/invoice"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    statuses: Counter[int] = Counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                body = json.dumps(
                    {"CustomerRef": {"value": "58"}, "Line": LINES, "DocNumber": f"B-{n}"}
                )
                params = {"minorversion": "75", "requestid": uuid.uuid4().hex}
                async with session.post(url, params=params, data=body) as response:
                    await response.read()
                    statuses[response.status] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def main() -> None:
    base, realm, token, count, concurrency = sys.argv[1:6]
    asyncio.run(create_many(base, realm, token, 200, int(concurrency)))  # warm-up
    started = time.perf_counter()
    statuses = asyncio.run(create_many(base, realm, token, int(count), int(concurrency)))
    seconds = time.perf_counter() - started
    print(json.dumps({"count": int(count), "seconds": seconds, "statuses": dict(statuses)}))


if __name__ == "__main__":
    main()
