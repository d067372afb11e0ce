"""The pipeline's figures for `make bench`, every ratio measured in the same run.

Real processes throughout (``pipeline_bench_procs``): gunicorn serving the
benchmark's settings (the product's tenant URLs plus the gateway's floor,
``pipeline_bench_urls``), the Procfile's two Celery workers (default queue,
``delivery``), QuickBooks sandbox processes, and a load generator process
(``pipeline_load``) with 32 concurrent senders. Tenants are provisioned and
wired through the real services, as ``tests/pipeline/conftest.py`` does:
a Revenova connection with the fixture's org id, a QuickBooks connection
connected through the sandbox's OAuth, a route, a hook URL.

1. **Gateway**: acknowledgements/s and p50/p99 of ``POST /hooks/<token>``
   against the floor (a view that only stores the body and queues its id),
   alternately, the workers stopped (both only store and queue).
2. **End to end**, POST → invoice in the sandbox (limits off; each tenant connects a
   company of its own, as in production, so each has its own share of the engine's
   per-realm limiter): N invoices over
   the tenants, one notification per message, then 100 per message, against
   the reference: a bare chain of four Celery tasks per invoice
   (``pipeline_reference``) on the same workers.
3. **Rate limit**: one QuickBooks company, the sandbox enforcing 500 requests
   per ``--rate-window`` seconds and the engine's minute set to the same:
   the sustained request rate against the limit, and the 429s the sandbox served.
4. RSS of the workers and of gunicorn after the run.

Sizes come from the environment (defaults: the issue's), for a quick run::

    NEXIOM_BENCH_INVOICES=1000 NEXIOM_BENCH_TENANTS=4 NEXIOM_BENCH_GATEWAY_REQUESTS=1000 \\
    NEXIOM_BENCH_RATE_INVOICES=600 make bench

Figures are printed, not asserted on (they depend on the machine); what is
asserted is that every invoice arrived exactly once and no 429 was served.
"""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from connectors.sdk.testing import SandboxProcess
from nexiom import settings as production
from pipeline.models import InboundMessage
from tests.benchmarks import pipeline_bench_procs as procs
from tests.benchmarks.pipeline_reference import COUNTER
from tests.benchmarks.report import figure_add
from tests.pipeline.wiring import Wired, sandbox_company, sandbox_limits_off, tenant_wire


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


TENANTS = _env_int("NEXIOM_BENCH_TENANTS", 20)
INVOICES = _env_int("NEXIOM_BENCH_INVOICES", 10_000)
REFERENCE_INVOICES = _env_int("NEXIOM_BENCH_REFERENCE_INVOICES", INVOICES)
GATEWAY_REQUESTS = _env_int("NEXIOM_BENCH_GATEWAY_REQUESTS", 4_000)
RATE_WINDOW = _env_int("NEXIOM_BENCH_RATE_WINDOW", 10)
RATE_INVOICES = _env_int("NEXIOM_BENCH_RATE_INVOICES", 1_500)
CONCURRENCY = _env_int("NEXIOM_BENCH_CONCURRENCY", 32)
RATE_LIMIT = 500  # QuickBooks: requests per minute per realm
PHASE_TIMEOUT = 1800.0
#: Longer than the pipeline's sweeper interval plus its grace: a stall is a bug, not a wait.
STALL_SECONDS = 60.0


def _say(line: str = "") -> None:
    print(line, flush=True)


def _count(wired: list[Wired], status: str) -> int:
    """Deliveries in ``status`` over the tenants, in one query."""
    table = 'SELECT count(*) AS n FROM "{}".pipeline_delivery WHERE status = %s'
    parts = [table.format(w.tenant.schema_name) for w in wired]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT sum(n) FROM ({' UNION ALL '.join(parts)}) AS c",  # noqa: S608 - our schemas
            [status] * len(wired),
        )
        return int(cursor.fetchone()[0] or 0)


def _where(wired: list[Wired]) -> str:
    """Rows per layer and state, and what waits in Redis: where a stalled run stopped."""
    counts = []
    with connection.cursor() as cursor:
        for w in wired:
            schema = w.tenant.schema_name
            for table, column in (
                ("pipeline_inboundmessage", "status"),
                ("pipeline_replicarecord", "object_type"),
                ("pipeline_canonicalrecord", "status"),
                ("pipeline_delivery", "status"),
            ):
                cursor.execute(
                    f'SELECT {column}, count(*) FROM "{schema}".{table} GROUP BY 1'  # noqa: S608
                )
                counts.append(f"{schema}.{table}: {dict(cursor.fetchall())}")
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = {k.decode(): broker.type(k).decode() for k in broker.keys("nexiom:pipeline:*")}
    return "; ".join(counts) + f"; redis: {keys}; celery queue {broker.llen('celery')}"


def _until_delivered(
    wired: list[Wired], target: int, *, base: int, trace: list | None = None
) -> float:
    """Waits until ``target`` more than ``base`` are delivered; returns the epoch it happened."""
    deadline = time.monotonic() + PHASE_TIMEOUT
    progress, last = -1, time.monotonic()
    while time.monotonic() < deadline:
        delivered = _count(wired, "delivered") - base
        now = time.time()
        if trace is not None:
            trace.append((now, delivered))
        if delivered >= target:
            return now
        dead = _count(wired, "dead")
        assert dead == 0, f"{dead} deliveries dead-lettered"
        if delivered != progress:
            progress, last = delivered, time.monotonic()
        assert time.monotonic() - last < STALL_SECONDS, (
            f"no delivery for {STALL_SECONDS} s: {delivered} of {target} delivered; "
            + _where(wired)
        )
        time.sleep(0.2)
    raise AssertionError(f"only {_count(wired, 'delivered') - base} of {target} delivered")


def _sandbox_invoices(sandbox: SandboxProcess) -> dict[str, int]:
    companies = sandbox.state()["data"]["companies"]
    return {realm: len(company["invoices"]) for realm, company in companies.items()}


def _post_spec(base: str, targets: list[Wired], *, run: str, per_tenant: int, per_message: int):
    return {
        "base": base,
        "run": run,
        "per_message": per_message,
        "concurrency": CONCURRENCY,
        "targets": [
            {"host": w.host, "path": w.hook_path, "tenant": i, "invoices": per_tenant}
            for i, w in enumerate(targets)
        ],
    }


def _rate(trace: list[tuple[float, int]], total: int) -> float:
    """Deliveries per second between 10% and 90% of ``total`` (the ramps left out)."""
    low = next(t for t, n in trace if n >= total * 0.1)
    low_n = next(n for t, n in trace if n >= total * 0.1)
    high = next(t for t, n in trace if n >= total * 0.9)
    high_n = next(n for t, n in trace if n >= total * 0.9)
    return (high_n - low_n) / max(1e-9, high - low)


@pytest.fixture
def sandbox():
    yield from sandbox_limits_off(company_per_consent=True)


def test_pipeline_figures(django_db_setup, django_db_blocker, sandbox, tmp_path: Path):
    with django_db_blocker.unblock():
        _run(sandbox, tmp_path)


def _run(sandbox: SandboxProcess, tmp: Path) -> None:
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    per_tenant = INVOICES // TENANTS
    invoices = per_tenant * TENANTS
    run = uuid.uuid4().hex[:3]
    started = time.perf_counter()
    wired = [tenant_wire(f"pb{i:02d}", sandbox) for i in range(TENANTS)]
    _say(f"\n[pipeline bench] {TENANTS} tenants wired in {time.perf_counter() - started:.1f} s")

    live: list[procs.Proc] = []
    try:
        # --- 1. the gateway against its floor, the workers stopped --------------------------
        metrics_dir = tmp / "metrics"
        metrics_dir.mkdir()
        env = procs.process_env(
            QUICKBOOKS_LOCAL_URL=sandbox.base_url,
            NEXIOM_RATE_LIMIT_MINUTE_SECONDS="1",
            PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        )
        web, base = procs.gunicorn(env)
        live.append(web)
        first = wired[0]
        floor_path = f"/bench-floor/{first.revenova.pk}"
        figures = {"gateway": [], "floor": []}
        rounds = 2
        per_round = max(1, GATEWAY_REQUESTS // rounds)
        for warm, path in (("wg", first.hook_path), ("wf", floor_path)):
            spec = _post_spec(base, [first], run=run + warm, per_tenant=200, per_message=1)
            spec["targets"][0]["path"] = path
            procs.load("post", spec, env, tmp)
        for n in range(rounds):
            for kind, path in (("floor", floor_path), ("gateway", first.hook_path)):
                spec = _post_spec(
                    base, [first], run=f"{run}{kind[0]}{n}", per_tenant=per_round, per_message=1
                )
                spec["targets"][0]["path"] = path
                result = procs.load("post", spec, env, tmp)
                assert result["statuses"] == {"200": per_round}, result
                figures[kind].append(result)
        gw, fl = (
            {
                "rate": sum(r["count"] for r in figures[k]) / sum(r["seconds"] for r in figures[k]),
                "p50": max(r["p50_ms"] for r in figures[k]),
                "p99": max(r["p99_ms"] for r in figures[k]),
            }
            for k in ("gateway", "floor")
        )
        gateway_ratio = gw["rate"] / fl["rate"]
        figure_add(
            "pipeline",
            f"gateway acks/s (1 notification, {CONCURRENCY} senders)",
            gw["rate"],
            "/s",
            shown=f"{gw['rate']:,.0f}/s",
            against=f"floor {fl['rate']:,.0f}/s",
            ratio=gateway_ratio,
            target=">= 0.8x",
            met=gateway_ratio >= 0.8,
        )
        figure_add(
            "pipeline",
            "gateway latency p99",
            gw["p99"],
            "ms",
            shown=f"p50 {gw['p50']:.1f} / p99 {gw['p99']:.1f} ms",
            against=f"floor p50 {fl['p50']:.1f} / p99 {fl['p99']:.1f} ms",
        )
        # What the gateway stored stays out of the end-to-end runs.
        with schema_context(first.tenant.schema_name):
            InboundMessage.objects.all().delete()
        connection.set_schema_to_public()
        broker.flushdb()

        # --- 2. end to end, against the reference, on the same workers ---------------------
        live += procs.workers(env, "e2e")
        reference = sandbox_company(  # a company of its own
            sandbox, "Great Lakes Packaging & Supply Co."
        )
        broker.delete(COUNTER)
        spec = {
            "run": run + "r",
            "count": REFERENCE_INVOICES,
            "customer_id": reference.customer_id,
            "base_url": reference.base_url,
            "token": reference.access_token,
        }
        sent = procs.load("reference", spec, env, tmp)
        deadline = time.monotonic() + PHASE_TIMEOUT
        while int(broker.get(COUNTER) or 0) < REFERENCE_INVOICES:
            assert time.monotonic() < deadline, "the reference did not finish"
            time.sleep(0.2)
        reference_rate = REFERENCE_INVOICES / (time.time() - sent["started"])
        figure_add(
            "pipeline",
            "reference: bare 4-task Celery chain per invoice",
            reference_rate,
            "/s",
            against=f"{REFERENCE_INVOICES:,} invoices",
        )
        e2e = {}
        for per_message, label in ((1, "a"), (100, "b")):
            spec = _post_spec(
                base, wired, run=run + label, per_tenant=per_tenant, per_message=per_message
            )
            cpu_before = {p.name: procs.cpu_seconds(p.pid) for p in live}
            drains_before = _drain_counters(metrics_dir)
            before = _count(wired, "delivered")
            posted = procs.load("post", spec, env, tmp)
            assert set(posted["statuses"]) == {"200"}, posted
            done = _until_delivered(wired, invoices, base=before)
            seconds = done - posted["started"]
            e2e[per_message] = invoices / seconds
            cpu = {p.name: procs.cpu_seconds(p.pid) - cpu_before[p.name] for p in live}
            ratio = e2e[per_message] / reference_rate
            figure_add(
                "pipeline",
                f"end to end, {per_message} notification(s)/message",
                e2e[per_message],
                "/s",
                shown=f"{e2e[per_message]:,.1f}/s ({invoices:,} in {seconds:.1f} s)",
                against=f"reference {reference_rate:,.1f}/s",
                ratio=ratio,
                target=">= 4x",
                met=ratio >= 4,
            )
            _layer_figures(per_message, invoices, cpu, _drain_counters(metrics_dir), drains_before)
            _say(
                f"[pipeline bench] {per_message}/message: posted in {posted['seconds']:.1f} s "
                f"(p99 {posted['p99_ms']:.0f} ms); CPU s: "
                + ", ".join(f"{name} {value:.1f}" for name, value in cpu.items())
                + f"; ms of CPU per invoice: {sum(cpu.values()) * 1000 / invoices:.2f}"
            )
        # Over all the sandbox's companies (the tenants' and the reference's): every invoice
        # of both runs and of the reference, each exactly once.
        held = _sandbox_invoices(sandbox)
        assert sum(held.values()) == 2 * invoices + REFERENCE_INVOICES, held

        rss = {p.name: procs.tree_rss(p.pid) for p in live if p is not web}
        for proc in live:
            if proc is not web:
                proc.stop()
        live = [web]

        # --- 3. one QuickBooks company at its rate limit -----------------------------------
        limited = SandboxProcess(
            "connectors.quickbooks.sandbox",
            ("--rate-limit", str(RATE_LIMIT), "--rate-window", str(RATE_WINDOW)),
        )
        try:
            rated = tenant_wire("pbrate", limited)
            broker.flushdb()
            env = procs.process_env(
                QUICKBOOKS_LOCAL_URL=limited.base_url,
                NEXIOM_RATE_LIMIT_MINUTE_SECONDS=str(RATE_WINDOW),
            )
            live += procs.workers(env, "rate")
            spec = _post_spec(base, [rated], run=run + "l", per_tenant=RATE_INVOICES, per_message=1)
            trace: list[tuple[float, int]] = []
            with ThreadPoolExecutor(max_workers=1) as pool:  # posting while the trace runs
                posting = pool.submit(procs.load, "post", spec, env, tmp)
                _until_delivered([rated], RATE_INVOICES, base=0, trace=trace)
                assert set(posting.result()["statuses"]) == {"200"}
            state = limited.state()
            throttled = sum(state["rate_limit"]["throttled"].values())
            requests_total = state["requests"]["total"]
        finally:
            limited.stop()
        sustained = _rate(trace, RATE_INVOICES)
        limit_rate = RATE_LIMIT / RATE_WINDOW
        figure_add(
            "pipeline",
            f"one QuickBooks company at {RATE_LIMIT} requests/{RATE_WINDOW} s",
            sustained,
            "req/s",
            shown=f"{sustained:,.1f} req/s, {throttled} x 429",
            against=f"limit {limit_rate:,.1f} req/s",
            ratio=sustained / limit_rate,
            target=">= 0.95x, 0 x 429",
            met=sustained / limit_rate >= 0.95 and throttled == 0,
        )
        rss["web"] = procs.tree_rss(web.pid)
        for name, (total, sizes) in rss.items():
            figure_add(
                "pipeline",
                f"RSS {name} after the runs",
                total,
                "MB",
                shown=f"{total:,.0f} MB",
                against=" + ".join(f"{s:.0f}" for s in sizes) + " MB (main + children)",
            )
    finally:
        for proc in live:
            proc.stop()

    _say(
        f"\npipeline bench: {TENANTS} tenants, {invoices:,} invoices per end-to-end run, "
        f"reference {REFERENCE_INVOICES:,}, gateway {GATEWAY_REQUESTS:,} requests each, "
        f"{CONCURRENCY} senders, rate run {RATE_INVOICES:,} invoices at "
        f"{RATE_LIMIT}/{RATE_WINDOW} s; "
        f"batches {settings.NEXIOM_PIPELINE_BATCH}, linger "
        f"{production.NEXIOM_PIPELINE_LINGER_SECONDS} s; gunicorn 2 sync workers; "
        f"celery prefork 2+2; engine limiter minute = 1 s for the limits-off runs; "
        f"{os.cpu_count()} CPUs"
    )
    assert throttled == 0
    assert requests_total >= RATE_INVOICES


def _drain_counters(directory: Path) -> dict[str, dict[str, float]]:
    """The workers' ``nexiom_pipeline_drain_*`` counters, merged from their files, by layer."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    found: dict[str, dict[str, float]] = {}
    names = {
        "nexiom_pipeline_drain_cpu_seconds_total": "cpu",
        "nexiom_pipeline_drain_records_total": "records",
        "nexiom_pipeline_drain_tasks_total": "tasks",
    }
    for family in registry.collect():
        for sample in family.samples:
            if sample.name in names:
                layer = found.setdefault(sample.labels["layer"], {})
                layer[names[sample.name]] = sample.value
    return found


LAYERS = {"l2": "L2 replica", "l3": "L3 normalize", "l4": "L4 outbound", "l5": "L5 delivery"}


def _layer_figures(per_message: int, invoices: int, cpu: dict, drains: dict, before: dict) -> None:
    """CPU ms per invoice: the gateway's from the web process, each layer's from its drain
    tasks (``nexiom_pipeline_drain_*``; Celery's own cost per task is outside them). L2
    takes message ids, the other layers one id per invoice."""
    figure_add(
        "pipeline",
        f"CPU per invoice, L1 gateway ({per_message}/message)",
        cpu["web"] * 1000 / invoices,
        "ms",
        shown=f"{cpu['web'] * 1000 / invoices:.2f} ms",
        against="web process CPU / invoices",
    )
    for layer, name in LAYERS.items():

        def delta(key: str, layer: str = layer) -> float:
            return drains.get(layer, {}).get(key, 0) - before.get(layer, {}).get(key, 0)

        per_invoice = delta("cpu") * 1000 / invoices
        figure_add(
            "pipeline",
            f"CPU per invoice, {name} ({per_message}/message)",
            per_invoice,
            "ms",
            shown=f"{per_invoice:.2f} ms",
            against=f"{delta('records'):,.0f} ids in {delta('tasks'):,.0f} drain tasks",
        )
    workers = sum(v for k, v in cpu.items() if k != "web")
    figure_add(
        "pipeline",
        f"CPU per invoice, all workers ({per_message}/message)",
        workers * 1000 / invoices,
        "ms",
        shown=f"{workers * 1000 / invoices:.2f} ms",
        against="both Celery workers' process trees / invoices",
    )
