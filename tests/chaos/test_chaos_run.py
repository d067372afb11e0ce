"""``make chaos``: 10,000 invoices through the whole platform while it is being broken.

Every process is the real one (``supervisor.Platform``: gunicorn, the Procfile's
two Celery workers, beat) against the run's own PostgreSQL and Redis
(``infra``) and a QuickBooks sandbox (limits off; the engine's limiter runs with
a one-second "minute"). A sender process (``sender``) posts Outbound Messages
for ``NEXIOM_CHAOS_TENANTS`` tenants, paced over ``NEXIOM_CHAOS_POST_SECONDS``,
and resends whatever got no acknowledgement, as Revenova does. Meanwhile, at
fixed fractions of the posting time, the schedule (``FAULTS``):

- 10 %: SIGKILLs the default-queue worker (main process and pool), restarted 2 s later;
- 25 %: kills Redis (SIGKILL, no persistence: every queue, drain flag and unacked
  task is gone) and starts an empty one on the same port 3 s later;
- 40 %: crashes PostgreSQL (``pg_ctl stop -m immediate``) and starts it 5 s later
  (WAL recovery); skipped, saying why, where the run has no private cluster;
- 55 %: makes the sandbox answer 429 to every other API call for the next
  ``NEXIOM_CHAOS_429_CALLS`` calls;
- 70 %: expires every access token the sandbox issued (the next call meets a 401);
- 85 %: SIGKILLs the delivery worker, restarted 2 s later.

The run then waits until every invoice is delivered or dead-lettered (a stall of
``NEXIOM_CHAOS_STALL_SECONDS`` without progress fails it) and counts, in the
sandbox (by DocNumber) and in the Delivery rows: delivered, duplicated, lost,
dead-lettered, and the token refreshes the sandbox granted. It fails unless
every invoice is delivered, none twice, none lost.

Scaled times (production values in ``nexiom/settings.py``): retries at most 5 s
apart instead of 15 min, a killed worker's delivery claims expire after 60 s
instead of 5 min. Everything else (sweeper every 10 s with its 20 s grace, drain
flags of 30 s) is the product's.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis
from django.conf import settings

from connectors.sdk.testing import SandboxProcess
from tests.benchmarks import pipeline_bench_procs as procs
from tests.chaos.conftest import Services
from tests.chaos.sender import keys_for
from tests.chaos.supervisor import Platform, wait
from tests.chaos.support import (
    Sender,
    db_read,
    refreshes,
    sandbox_doc_numbers,
    say,
    table,
)
from tests.chaos.wiring import Wired, counts, tenant_wire


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


INVOICES = _env_int("NEXIOM_CHAOS_INVOICES", 10_000)
TENANTS = _env_int("NEXIOM_CHAOS_TENANTS", 20)
PER_MESSAGE = _env_int("NEXIOM_CHAOS_PER_MESSAGE", 5)
SENDERS = _env_int("NEXIOM_CHAOS_SENDERS", 16)
#: Long enough that the faults meet invoices flowing, not a finished run (~40 invoices/s).
POST_SECONDS = _env_int("NEXIOM_CHAOS_POST_SECONDS", max(60, INVOICES // 40))
STORM_CALLS = _env_int("NEXIOM_CHAOS_429_CALLS", max(200, INVOICES // 5))
STALL_SECONDS = _env_int("NEXIOM_CHAOS_STALL_SECONDS", 240)
RUN_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Fault:
    at: float  # fraction of POST_SECONDS
    name: str
    act: Callable[[], str]  # does it; says what it did


def test_chaos(django_db_setup, django_db_blocker, chaos_services, sandbox, tmp_path: Path):
    with django_db_blocker.unblock():
        _run(chaos_services, sandbox, tmp_path)


def _run(services: Services, sandbox: SandboxProcess, tmp: Path) -> None:
    run = uuid.uuid4().hex[:3]
    per_tenant = INVOICES // TENANTS
    total = per_tenant * TENANTS
    began = time.monotonic()
    wired = [tenant_wire(f"chaos{i:02d}", sandbox) for i in range(TENANTS)]
    say(f"\n[chaos] {TENANTS} tenants wired in {time.monotonic() - began:.1f} s")
    env = procs.process_env(
        QUICKBOOKS_LOCAL_URL=sandbox.base_url,
        NEXIOM_RATE_LIMIT_MINUTE_SECONDS="1",
        NEXIOM_DELIVERY_DELAY_MAX="5",
        NEXIOM_DELIVERY_CLAIM_SECONDS="60",
    )
    platform = Platform(env, "run")
    sender = None
    log: list[str] = []
    try:
        platform.start()
        since = sandbox.state()["now"]
        spec = {
            "base": platform.base,
            "run": run,
            "invoices": per_tenant,
            "per_message": PER_MESSAGE,
            "concurrency": SENDERS,
            "seconds": POST_SECONDS,
            "resend": True,
            "give_up_seconds": POST_SECONDS + 900,
            "timeout": 30,
            "targets": [
                {"host": w.host, "path": w.hook_path, "tenant": i} for i, w in enumerate(wired)
            ],
        }
        sender = Sender(spec, tmp, "chaos")
        started = time.monotonic()

        def note(line: str) -> None:
            delivered = db_read(lambda: counts(wired, "pipeline_delivery").get("delivered", 0))
            entry = f"t={time.monotonic() - started:6.1f} s  {line}  [{delivered:,} delivered]"
            log.append(entry)
            say(f"[chaos] {entry}")

        expired: dict[str, int] = {}
        for fault in _faults(services, platform, sandbox, expired):
            wait(started + fault.at * POST_SECONDS - time.monotonic(), platform)
            note(f"{fault.name}: {fault.act()}")
        while not sender.done():
            wait(2, platform)
        posted = sender.result(timeout=60)
        note(
            f"posting done: {posted['messages']:,} messages acknowledged "
            f"in {posted['seconds']:.0f} s, {posted['attempts'] - posted['messages']:,} resends"
        )
        outcome = _until_settled(platform, wired, total, note)
        elapsed = time.monotonic() - started
        numbers = sandbox_doc_numbers(sandbox, f"B{run}")
        state = sandbox.state()
        refreshed = refreshes(sandbox, since)
    finally:
        if sender is not None:
            sender.kill()
        platform.stop()

    expected = {f"B{keys_for(run, t, n)}" for t in range(TENANTS) for n in range(per_tenant)}
    delivered = len(expected & set(numbers))
    duplicated = sum(count - 1 for count in numbers.values() if count > 1)
    lost = len(expected - set(numbers))
    strangers = set(numbers) - expected
    storm_left = sum(1 for f in state["faults"]["pending"] if f["status"] == 429)
    storm = STORM_CALLS // 2
    table(
        f"chaos: {total:,} invoices, {TENANTS} tenants, {PER_MESSAGE} per message, "
        f"posted over {POST_SECONDS} s by {SENDERS} senders; {os.cpu_count()} CPUs; "
        f"all delivered {elapsed:.0f} s after posting began",
        [
            ("delivered (in the sandbox, by DocNumber)", f"{delivered:,}"),
            ("duplicated (extra invoices in the sandbox)", f"{duplicated}"),
            ("lost (sent, never delivered)", f"{lost}"),
            ("dead-lettered (Delivery rows dead)", f"{outcome.get('dead', 0)}"),
            ("Delivery rows delivered", f"{outcome.get('delivered', 0):,}"),
            ("token refreshes (sandbox refresh grants)", f"{refreshed}"),
            ("access tokens expired by the fault", f"{expired.get('tokens', 0)}"),
            ("429s served by the storm", f"{storm - storm_left:,} of {storm:,}"),
            (
                "messages acknowledged / POSTs",
                f"{posted['messages']:,} / {posted['attempts']:,} "
                f"(no ack: {_errors(posted['errors'])})",
            ),
            ("Redis restarts / PostgreSQL restarts", _restarts(services)),
            ("unplanned process exits", f"{len(platform.unplanned)}"),
        ],
    )
    say("fault log:")
    for entry in log:
        say(f"  {entry}")
    for line in platform.unplanned:
        say(f"  unplanned: {line}")
    assert posted["messages"] == len(wired) * -(-per_tenant // PER_MESSAGE)
    assert strangers == set()
    # A 500 while PostgreSQL restarts is not asserted on: it is never an ack (the sender
    # resends), and a request already past the host lookup can still meet one in the
    # hook view's own queries; the table shows them (tests/tenants covers the lookup).
    assert (delivered, duplicated, lost) == (total, 0, 0)
    assert refreshed >= 1  # the expired tokens were refreshed, not dead-lettered


def _faults(
    services: Services, platform: Platform, sandbox: SandboxProcess, expired: dict[str, int]
) -> list[Fault]:
    def kill(kind: str) -> Callable[[], str]:
        def act() -> str:
            pid = platform.kill_worker(kind)
            wait(2, platform)
            platform.start_workers(kind)
            return f"SIGKILL to the {kind} worker's process group (pid {pid}), a new one in 2 s"

        return act

    def redis_restart() -> str:
        held = len(redis.Redis.from_url(settings.CELERY_BROKER_URL).keys("*"))
        services.redis.restart(down_seconds=3)
        return f"Redis SIGKILLed ({held} keys lost), down 3 s, started empty on the same port"

    def postgres_restart() -> str:
        if services.cluster is None:
            return f"SKIPPED: {services.pg_skip}"
        services.cluster.restart(down_seconds=5)
        return "PostgreSQL crashed (pg_ctl stop -m immediate), down 5 s, restarted (WAL replay)"

    def storm() -> str:
        every_other = [{"status": 429, "count": 1}, {"hang_seconds": 0, "count": 1}]
        plan = every_other * (STORM_CALLS // 2)
        sandbox.http.post(sandbox.url("/__sandbox__/faults"), json=plan, timeout=30)
        return f"the sandbox answers 429 to every other API call for the next {len(plan):,}"

    def revoke() -> str:
        expired["tokens"] = sandbox.expire(all=True).json()["expired"]
        return f"{expired['tokens']} access tokens expired in the sandbox (next call: 401)"

    return [
        Fault(0.10, "worker killed", kill("default")),
        Fault(0.25, "Redis restart", redis_restart),
        Fault(0.40, "PostgreSQL restart", postgres_restart),
        Fault(0.55, "429 storm", storm),
        Fault(0.70, "token revoked", revoke),
        Fault(0.85, "worker killed", kill("delivery")),
    ]


def _until_settled(
    platform: Platform, wired: list[Wired], total: int, note: Callable[[str], None]
) -> dict[str, int]:
    """Waits, supervising, until every delivery is delivered or dead; the statuses then."""
    deadline = time.monotonic() + RUN_TIMEOUT
    progress, last, said = -1, time.monotonic(), time.monotonic()
    while True:
        statuses = db_read(lambda: counts(wired, "pipeline_delivery"))
        settled = statuses.get("delivered", 0) + statuses.get("dead", 0)
        if settled >= total:
            return statuses
        if settled != progress:
            progress, last = settled, time.monotonic()
        if time.monotonic() - said > 30:
            note(f"waiting: deliveries {statuses}")
            said = time.monotonic()
        stalled = time.monotonic() - last > STALL_SECONDS
        if stalled or time.monotonic() > deadline:
            raise AssertionError(
                f"{'stalled' if stalled else 'timed out'} at {settled:,} of {total:,}: "
                + _where(wired)
            )
        platform.check()
        time.sleep(1)


def _where(wired: list[Wired]) -> str:
    """Rows per layer and state, and what waits in Redis: where a stalled run stopped."""
    parts = [
        f"{table}: {db_read(lambda table=table: counts(wired, table))}"
        for table in (
            "pipeline_inboundmessage",
            "pipeline_canonicalrecord",
            "pipeline_delivery",
        )
    ]
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = sorted(k.decode() for k in broker.keys("nexiom:pipeline:*"))
    return "; ".join(parts) + f"; redis pipeline keys: {keys[:40]}"


def _errors(errors: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "none"


def _restarts(services: Services) -> str:
    pg = services.cluster.restarts if services.cluster else f"skipped ({services.pg_skip})"
    return f"{services.redis.restarts} / {pg}"
