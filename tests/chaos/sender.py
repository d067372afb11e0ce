"""The chaos runs' sender, a process of its own: Outbound Messages POSTed as Revenova posts
them, every outcome written down.

    python -m tests.chaos.sender SPEC.json OUTCOMES.jsonl

The spec names the gunicorn base URL, the targets (host, hook path, tenant number),
the run tag, invoices per tenant, notifications per message, senders, and:

- ``seconds``: the posting is paced over this long (message i leaves no earlier than
  i * seconds / count after the start), so the faults meet a flow, not a backlog;
- ``resend``: like Revenova (which resends for 24 h), a message that got no
  acknowledgement (refused connection, reset, timeout, 5xx) is sent again after a
  pause until it is acknowledged; a re-sent message collapses onto the first, so
  this never duplicates. Without ``resend`` only a refused connection is retried
  (nothing reached the server); any other outcome is final;
- ``stop_file``: with ``count`` 0, messages keep coming until this file exists.

Each message's final outcome is one JSON line in OUTCOMES (``key`` of its first
notification, ``outcome``: ``ack``, ``no_ack``, ``http_<status>`` or ``unsent``, attempts);
stdout gets one JSON summary line.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp

from tests.benchmarks.pipeline_messages import message

ACK = b"<Ack>true</Ack>"


def keys_for(run: str, tenant: int, number: int) -> str:
    """The notification key of one invoice (``pipeline_messages`` derives ids and DocNumber)."""
    return f"{run}{tenant:02d}{number:06d}"


def _plan(spec: dict) -> Iterator[tuple[dict, list[str]]]:
    """(target, keys) per message, interleaved across the targets; endless when count is 0."""
    per = spec["per_message"]
    targets = spec["targets"]
    invoices = spec["invoices"]
    numbers = itertools.count(0, per) if not invoices else range(0, invoices, per)
    for start in numbers:
        for index, target in enumerate(targets):
            last = start + per if not invoices else min(start + per, invoices)
            yield target, [keys_for(spec["run"], index, n) for n in range(start, last)]


async def _send(spec: dict, out: Path) -> dict:
    total = len(spec["targets"]) * -(-spec["invoices"] // spec["per_message"])
    interval = spec.get("seconds", 0) / total if total else 0.0
    stop_file = Path(spec["stop_file"]) if spec.get("stop_file") else None
    resend = spec.get("resend", False)
    deadline = time.monotonic() + spec.get("give_up_seconds", 3600)
    outcomes: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    attempts_total = 0
    plan = iter(enumerate(_plan(spec)))
    started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=spec.get("timeout", 30))
    connector = aiohttp.TCPConnector(limit=spec["concurrency"], force_close=False)
    with out.open("w") as record:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def post_once(target: dict, body: bytes) -> tuple[str, bool]:
                """(outcome, reached the server)."""
                try:
                    async with session.post(
                        spec["base"] + target["path"],
                        data=body,
                        headers={"Host": target["host"], "Content-Type": "text/xml"},
                    ) as response:
                        content = await response.read()
                except aiohttp.ClientConnectorError:
                    errors["refused"] += 1
                    return "no_ack", False
                except (aiohttp.ClientError, TimeoutError) as error:
                    errors[type(error).__name__] += 1
                    return "no_ack", True
                if response.status == 200 and ACK in content:
                    return "ack", True
                errors[f"http_{response.status}"] += 1
                return f"http_{response.status}", True

            async def sender() -> None:
                nonlocal attempts_total
                for index, (target, keys) in plan:
                    if stop_file is not None and stop_file.exists():
                        return
                    due = started + index * interval
                    if due > time.monotonic():
                        await asyncio.sleep(due - time.monotonic())
                    body = message(keys)
                    attempts = 0
                    while True:
                        attempts += 1
                        outcome, reached = await post_once(target, body)
                        final = outcome == "ack" or (not resend and reached)
                        if final or time.monotonic() > deadline:
                            break
                        if not reached and stop_file is not None and stop_file.exists():
                            outcome = "unsent"  # the run ended while the server was down
                            break
                        # Revenova waits before a resend; ours are quick, the run is short.
                        await asyncio.sleep(0.05 if not reached else 0.5)
                    attempts_total += attempts
                    outcomes[outcome] += 1
                    line = {"key": keys[0], "n": len(keys), "tenant": target["tenant"]}
                    record.write(json.dumps({**line, "outcome": outcome, "attempts": attempts}))
                    record.write("\n")
                    record.flush()

            await asyncio.gather(*(sender() for _ in range(spec["concurrency"])))
    return {
        "messages": sum(outcomes.values()),
        "outcomes": dict(outcomes),
        "attempts": attempts_total,
        "errors": dict(errors),
        "seconds": time.monotonic() - started,
    }


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    summary = asyncio.run(_send(spec, Path(sys.argv[2])))
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
