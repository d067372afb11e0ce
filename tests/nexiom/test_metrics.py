"""``/metrics``: what an end-to-end run did, counted exactly; public host only; by address;
and the files of other processes (gunicorn workers, Celery's prefork children) merged."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from django_tenants.utils import schema_context
from prometheus_client.parser import text_string_to_metric_families

from pipeline.models import Delivery
from tests.pipeline.conftest import FIXTURES, pipeline_worker, wait_until, wired_as

# The pipeline's real worker fixture, used by ``wired`` below.
__all__ = ["pipeline_worker"]
SLUG = "metrics"

ROOT = Path(__file__).resolve().parents[2]
INVOICES = (FIXTURES / "revenova_outbound_invoice.xml").read_bytes()
LAYERS = ("gateway", "replica", "normalize", "outbound", "delivery")

Sample = tuple[str, tuple[tuple[str, str], ...]]


wired = wired_as(SLUG)  # the pipeline's wired tenant under a slug of this module's own


def scrape(client: Client | None = None) -> dict[Sample, float]:
    response = (client or Client(HTTP_HOST="localhost")).get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def events(layer: str, status: str) -> Sample:
    return ("nexiom_sync_events_total", (("layer", layer), ("status", status)))


def delta(before: dict[Sample, float], after: dict[Sample, float], key: Sample) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_an_end_to_end_run_is_counted_exactly(wired, qbo_sandbox, django_db_blocker):
    with django_db_blocker.unblock():
        before = scrape()
        invoices_before = len(
            qbo_sandbox.state()["data"]["companies"][wired.books.realm_id]["invoices"]
        )
        qbo_sandbox.expire(all=True)  # the first call is refused: one refresh, counted

        response = wired.post(INVOICES)
        assert response.status_code == 200, response.content

        def delivered() -> int:
            with schema_context(wired.tenant.schema_name):
                return Delivery.objects.filter(status=Delivery.Status.DELIVERED).count()

        wait_until(lambda: delivered() == 2, what="two delivered invoices")
        # Counted after commit, on the worker's thread: give it the moment it needs.
        wait_until(
            lambda: delta(before, scrape(), events("delivery", "succeeded")) >= 2,
            what="delivery counted",
        )
        time.sleep(0.5)
        after = scrape()

    invoices_after = len(qbo_sandbox.state()["data"]["companies"][wired.books.realm_id]["invoices"])
    assert invoices_after - invoices_before == delivered() == 2
    changed = {
        key: after[key] - before.get(key, 0.0)
        for key in after
        if key[0] in ("nexiom_sync_events_total", "nexiom_token_refreshes_total")
        and after[key] != before.get(key, 0.0)
    }
    assert changed == {
        events("gateway", "received"): 1,
        events("replica", "succeeded"): 2,
        events("normalize", "succeeded"): 2,
        events("outbound", "succeeded"): 2,
        events("delivery", "succeeded"): 2,
        (
            "nexiom_token_refreshes_total",
            (("connector", "quickbooks"), ("outcome", "succeeded")),
        ): 1,
    }
    for layer in LAYERS[1:]:
        count = ("nexiom_sync_duration_seconds_count", (("layer", layer),))
        assert delta(before, after, count) == 2, layer
        inf = ("nexiom_sync_duration_seconds_bucket", (("layer", layer), ("le", "+Inf")))
        assert delta(before, after, inf) == 2, layer
    assert ("nexiom_sync_duration_seconds_count", (("layer", "gateway"),)) not in after
    for name in ("nexiom_sync_retries_total", "nexiom_sync_dead_letters_total"):
        assert not [k for k in changed if k[0] == name]
    for layer in LAYERS[1:]:
        assert after[("nexiom_pipeline_backlog", (("layer", layer),))] == 0
    assert ("nexiom_celery_queue_length", (("queue", "delivery"),)) in after
    assert not any(name == "tenant" for _, labels in after for name, _value in labels), (
        "no metric carries a tenant label"
    )


def test_retries_and_dead_letters_are_counted_from_the_events(db):
    from nexiom.metrics import events_observe
    from sync_history.models import EventStatus, Layer
    from sync_history.services import Event

    before = scrape()

    events_observe(
        [
            Event(layer=Layer.DELIVERY, status=EventStatus.RETRYING, duration_ms=1500),
            Event(layer=Layer.DELIVERY, status=EventStatus.DEAD, duration_ms=20),
            Event(layer=Layer.OUTBOUND, status=EventStatus.DEAD),
            Event(layer=Layer.NORMALIZE, status=EventStatus.SKIPPED, duration_ms=3),
        ]
    )

    after = scrape()
    assert delta(before, after, ("nexiom_sync_retries_total", (("layer", "delivery"),))) == 1
    assert delta(before, after, ("nexiom_sync_dead_letters_total", (("layer", "delivery"),))) == 1
    assert delta(before, after, ("nexiom_sync_dead_letters_total", (("layer", "outbound"),))) == 1
    assert delta(before, after, events("delivery", "retrying")) == 1
    # Only work is timed: 1.5 s and 20 ms at L5, nothing for the skipped L3 event.
    le_1 = ("nexiom_sync_duration_seconds_bucket", (("layer", "delivery"), ("le", "1.0")))
    le_2_5 = ("nexiom_sync_duration_seconds_bucket", (("layer", "delivery"), ("le", "2.5")))
    assert delta(before, after, le_1) == 1
    assert delta(before, after, le_2_5) == 2
    normalize_count = ("nexiom_sync_duration_seconds_count", (("layer", "normalize"),))
    assert delta(before, after, normalize_count) == 0


def test_a_rolled_back_batch_is_not_counted(db):
    from django.db import transaction

    from sync_history.models import EventStatus, Layer
    from sync_history.services import Event, events_record

    before = scrape()

    with schema_context("alpha"), transaction.atomic():
        events_record([Event(layer=Layer.GATEWAY, status=EventStatus.REFUSED)])
        transaction.set_rollback(True)

    assert delta(before, scrape(), events("gateway", "refused")) == 0


def test_metrics_are_not_served_on_a_tenant_host(tenant_a):
    assert Client(HTTP_HOST="alpha.localhost").get("/metrics").status_code == 404


def test_health_probes_still_answer(db):
    client = Client(HTTP_HOST="localhost")

    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


@pytest.mark.parametrize(
    ("allowed", "remote", "forwarded", "behind_proxy", "status"),
    [
        (["*"], "203.0.113.7", None, False, 200),
        (["127.0.0.1", "::1"], "127.0.0.1", None, False, 200),
        (["127.0.0.1", "::1"], "::1", None, False, 200),
        (["127.0.0.1", "::1"], "203.0.113.7", None, False, 403),
        (["10.0.0.0/8"], "10.1.2.3", None, False, 200),
        (["10.0.0.0/8"], "10.1.2.3", "203.0.113.7", True, 403),  # the proxy saw an outsider
        (["10.0.0.0/8"], "10.1.2.3", "203.0.113.7, 10.9.9.9", True, 200),
        (["10.0.0.0/8"], "203.0.113.7", "10.9.9.9", False, 403),  # not behind a proxy: ignored
        (["not-an-address", "10.0.0.0/8"], "10.1.2.3", None, False, 200),
    ],
)
def test_who_may_scrape(db, settings, allowed, remote, forwarded, behind_proxy, status):
    settings.NEXIOM_METRICS_ALLOWED_IPS = allowed
    settings.NEXIOM_BEHIND_PROXY = behind_proxy
    headers = {"REMOTE_ADDR": remote}
    if forwarded:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded

    response = Client(HTTP_HOST="localhost").get("/metrics", **headers)

    assert response.status_code == status
    if status == 403:
        assert b"nexiom_" not in response.content


RECORD = """
import sys
from types import SimpleNamespace
from nexiom import metrics
for _ in range(int(sys.argv[1])):
    metrics.events_observe([SimpleNamespace(layer="delivery", status="succeeded", duration_ms=40)])
metrics.token_refresh_observe(connector="quickbooks", outcome="failed")
"""


def test_other_processes_files_are_merged(db, settings, tmp_path):
    # Two processes as gunicorn workers or prefork children are: each writes its own
    # files under the directory (one in a container's subdirectory, as compose does).
    for directory, count in ((tmp_path, 3), (tmp_path / "worker-container", 4)):
        directory.mkdir(exist_ok=True)
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
        subprocess.run(
            [sys.executable, "-c", RECORD, str(count)], cwd=ROOT, env=env, check=True, timeout=60
        )
    settings.NEXIOM_METRICS_DIR = str(tmp_path)

    merged = scrape()

    assert merged[events("delivery", "succeeded")] == 7
    assert merged[("nexiom_sync_duration_seconds_count", (("layer", "delivery"),))] == 7
    refreshes = (
        "nexiom_token_refreshes_total",
        (("connector", "quickbooks"), ("outcome", "failed")),
    )
    assert merged[refreshes] == 2
    assert ("nexiom_pipeline_backlog", (("layer", "delivery"),)) in merged
