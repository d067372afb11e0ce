"""Acknowledged means stored: the web process SIGKILLed around the acknowledgement.

A sender process posts one-notification Outbound Messages without pause to
gunicorn (two sync workers, as in the Procfile) and writes down which got the
SOAP ``<Ack>true</Ack>``. ``NEXIOM_CHAOS_ACK_ROUNDS`` times (100), gunicorn
starts, serves for a random moment, then its master and workers get SIGKILL
together: requests die before the commit, between the commit and the answer, or
while the answer is on its way. The sender resends only what never reached the
server (refused connection); a message whose request died is not resent, so a
message stored but never acknowledged stays visible.

Then, with the Celery workers and beat running throughout:

- every acknowledged message has its ``InboundMessage`` row (rows ≥ acks);
- every stored message ends delivered: its invoice is in the QuickBooks
  sandbox exactly once, and nothing that was not stored is there.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path

from tests.benchmarks import pipeline_bench_procs as procs
from tests.chaos.supervisor import Platform, jitter
from tests.chaos.support import Sender, db_read, sandbox_doc_numbers, say, table
from tests.chaos.wiring import Wired, counts, dedupe_keys, tenant_wire

ROUNDS = int(os.environ.get("NEXIOM_CHAOS_ACK_ROUNDS") or 100)
TENANTS = int(os.environ.get("NEXIOM_CHAOS_ACK_TENANTS") or 2)
SENDERS = int(os.environ.get("NEXIOM_CHAOS_ACK_SENDERS") or 8)
#: How long gunicorn serves before its SIGKILL, at random in this range (seconds).
SERVE = (0.05, 1.0)
#: No new delivery for this long is a stall (a bug), not a wait: the sweeper runs every 10 s.
STALL_SECONDS = 120.0


def _dedupe_key(key: str) -> str:
    """The gateway's dedupe key of a one-notification message (``gateway.dedupe_key_for``:
    the sorted notification ids, hashed); ``pipeline_messages`` names the notification N<key>."""
    return hashlib.sha256(f"N{key}".encode()).hexdigest()


def test_acknowledged_means_stored(django_db_setup, django_db_blocker, sandbox, tmp_path: Path):
    with django_db_blocker.unblock():
        _run(sandbox, tmp_path)


def _run(sandbox, tmp: Path) -> None:
    run = uuid.uuid4().hex[:3]
    wired = [tenant_wire(f"ack{i:02d}", sandbox) for i in range(TENANTS)]
    env = procs.process_env(
        QUICKBOOKS_LOCAL_URL=sandbox.base_url,
        NEXIOM_RATE_LIMIT_MINUTE_SECONDS="1",  # the sandbox's limits are off; see README
    )
    platform = Platform(env, "ack")
    stop_file = tmp / "stop"
    sender = None
    serving = []
    try:
        platform.start()
        spec = {
            "base": platform.base,
            "run": run,
            "invoices": 0,  # endless, until stop_file
            "per_message": 1,
            "concurrency": SENDERS,
            "resend": False,
            "stop_file": str(stop_file),
            "timeout": 30,
            "targets": [
                {"host": w.host, "path": w.hook_path, "tenant": i} for i, w in enumerate(wired)
            ],
        }
        sender = Sender(spec, tmp, "ack")
        started = time.monotonic()
        for round_no in range(ROUNDS):
            if round_no:
                platform.start_web()
            serve = jitter(*SERVE)
            serving.append(serve)
            time.sleep(serve)
            platform.kill_web()
        kill_seconds = time.monotonic() - started
        stop_file.touch()
        summary = sender.result(timeout=120)
        outcomes = sender.outcomes()
        acked = {o["key"] for o in outcomes if o["outcome"] == "ack"}
        sent = {o["key"] for o in outcomes if o["outcome"] != "unsent"}

        stored_keys = db_read(lambda: set().union(*(dedupe_keys(w) for w in wired)))
        by_dedupe = {_dedupe_key(key): key for key in sent}
        acked_not_stored = sorted(k for k in acked if _dedupe_key(k) not in stored_keys)
        stored = {by_dedupe[k] for k in stored_keys if k in by_dedupe}
        strangers = len(stored_keys) - len(stored)  # rows of no message we sent: none expected

        delivered = _until_delivered(platform, wired, len(stored_keys))
        numbers = sandbox_doc_numbers(sandbox, f"B{run}")
        expected = {f"B{key}" for key in stored}
        duplicated = sorted(n for n, c in numbers.items() if c > 1)
        missing = sorted(expected - set(numbers))
        unexpected = sorted(set(numbers) - expected)
        dead = db_read(lambda: counts(wired, "pipeline_delivery").get("dead", 0))
    finally:
        stop_file.touch()
        if sender is not None:
            sender.kill()
        platform.stop()

    table(
        f"acknowledged means stored: {ROUNDS} SIGKILLs of gunicorn (master + 2 workers), "
        f"{SENDERS} senders, {TENANTS} tenants, served {min(serving):.2f}-{max(serving):.2f} s "
        f"per round, {kill_seconds:.0f} s of kills",
        [
            ("kill rounds", f"{ROUNDS}"),
            ("messages posted (reached the server)", f"{len(sent):,}"),
            ("acknowledgements received", f"{len(acked):,}"),
            ("requests cut by a kill (no answer)", f"{summary['outcomes'].get('no_ack', 0):,}"),
            ("other answers", f"{_others(summary['outcomes'])}"),
            ("InboundMessage rows stored", f"{len(stored_keys):,}"),
            ("stored without an acknowledgement", f"{len(stored - acked):,}"),
            ("acknowledged but NOT stored", f"{len(acked_not_stored):,}"),
            ("delivered (Delivery rows)", f"{delivered:,}"),
            ("in the sandbox", f"{len(numbers):,}"),
            ("duplicated / missing in the sandbox", f"{len(duplicated)} / {len(missing)}"),
            ("dead-lettered", f"{dead}"),
            ("unplanned process exits", f"{len(platform.unplanned)}"),
        ],
    )
    for line in platform.unplanned:
        say(f"  unplanned: {line}")
    assert acked_not_stored == [], f"acknowledged, never stored: {acked_not_stored[:20]}"
    assert len(stored_keys) >= len(acked)
    assert strangers == 0
    assert (duplicated, missing, unexpected) == ([], [], [])
    assert delivered == len(stored_keys)
    assert dead == 0


def _others(outcomes: dict[str, int]) -> str:
    rest = {k: v for k, v in outcomes.items() if k not in ("ack", "no_ack", "unsent")}
    return ", ".join(f"{k}: {v}" for k, v in sorted(rest.items())) or "none"


def _until_delivered(platform: Platform, wired: list[Wired], target: int) -> int:
    """Waits, supervising the workers, until ``target`` deliveries are delivered."""
    progress, last = -1, time.monotonic()
    while True:
        delivered = db_read(lambda: counts(wired, "pipeline_delivery").get("delivered", 0))
        if delivered >= target:
            return delivered
        if delivered != progress:
            progress, last = delivered, time.monotonic()
        if time.monotonic() - last > STALL_SECONDS:
            where = {t: db_read(lambda t=t: counts(wired, t)) for t in _TABLES}
            raise AssertionError(f"stalled at {delivered} of {target} delivered: {where}")
        platform.check()
        time.sleep(0.5)


_TABLES = ("pipeline_inboundmessage", "pipeline_canonicalrecord", "pipeline_delivery")
