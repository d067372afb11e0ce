"""Workers SIGKILLed mid-run, again and again: nothing lost, nothing twice.

Real ``celery -A nexiom worker`` processes (prefork, two children) consume
the test broker's default and delivery queues against the test database;
each is killed with SIGKILL (the whole process group, children included)
while invoices flow, and a new one started. What a killed worker held is
recovered as production recovers it: task messages it had taken stay
unacknowledged in Redis, its delivery claims run out
(``NEXIOM_DELIVERY_CLAIM_SECONDS``) and so do its drains' flags
(``NEXIOM_PIPELINE_FLAG_SECONDS``), both shortened here, and the sweeper
(``pipeline.sweep_tenant``) queues again whatever a layer still owes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection as db_connection
from django_tenants.utils import schema_context

from pipeline.models import Delivery
from pipeline.tasks import sweep_tenant
from tests.pipeline.conftest import celery_queues, wait_until, wire
from tests.pipeline.support import (
    ACK,
    delivered_count,
    deliveries,
    invoice,
    invoices_by_number,
    message,
    tag,
)

ROOT = Path(__file__).resolve().parents[2]
QUEUES = ("celery", "delivery")  # the settings' default queue and delivery queue
MESSAGES, PER_MESSAGE = 10, 20  # 200 invoices


class Workers:
    """One ``celery worker`` process group at a time; ``kill()`` is SIGKILL to all of it."""

    def __init__(self, log: Path) -> None:
        database = db_connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "nexiom.settings_test",
            "DATABASE_URL": (
                f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
                f"{database['NAME']}"
            ),
            "NEXIOM_TEST_REDIS_URL": django_settings.CELERY_BROKER_URL,
            "NEXIOM_DELIVERY_CLAIM_SECONDS": "3",
            "NEXIOM_PIPELINE_FLAG_SECONDS": "3",
            "NEXIOM_DELIVERY_DELAY_MAX": "1",
            "NEXIOM_RATE_LIMIT_MINUTE_SECONDS": "1",
        }
        self.log = log.open("ab")
        self.process: subprocess.Popen | None = None
        self.started = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "nexiom", "worker"),
                *("-P", "prefork", "-c", "2", "-Q", ",".join(QUEUES)),
                *("--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"),
                f"--hostname=crash{self.started}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started += 1

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="module")
def crashed(django_db_setup, qbo_sandbox, django_db_blocker):
    """A wired tenant of its own, and no in-process worker: the subprocesses do the work."""
    celery_queues(*QUEUES)
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    broker.delete(*QUEUES)  # nothing an earlier test left behind
    with wire("crash", qbo_sandbox, django_db_blocker) as wired:
        yield wired
    broker.delete(*QUEUES)


@pytest.fixture
def workers(crashed, tmp_path, django_db_blocker):
    pool = Workers(tmp_path / "workers.log")
    with django_db_blocker.unblock():
        try:
            yield pool
        finally:
            pool.kill()


def test_workers_killed_mid_run_lose_nothing_and_duplicate_nothing(
    crashed, workers, qbo_sandbox, settings
):
    settings.NEXIOM_SWEEP_GRACE_SECONDS = 0
    settings.NEXIOM_PIPELINE_FLAG_SECONDS = 3
    run = tag()
    realm = crashed.books.realm_id
    records = [
        invoice(run, n, customer=f"Customer {run} {n % 7}")
        for n in range(1, MESSAGES * PER_MESSAGE + 1)
    ]
    batches = [records[i : i + PER_MESSAGE] for i in range(0, len(records), PER_MESSAGE)]
    kills_at = {3: 10, 6: 60, 9: 120}  # after posting message k, kill once this many arrived
    killed_mid_run = []
    workers.start()

    def delivered_after_a_beat(count: int) -> bool:
        """What beat does every few seconds (``pipeline.sweep``), then: are ``count`` there?"""
        with schema_context(crashed.tenant.schema_name):
            sweep_tenant()
        time.sleep(0.5)
        return delivered_count(crashed) >= count

    for k, batch in enumerate(batches, start=1):
        assert crashed.post(message(batch)).content == ACK
        if k in kills_at:
            wait_until(
                lambda k=k: delivered_after_a_beat(kills_at[k]),
                timeout=60,
                what=f"{kills_at[k]} delivered before kill {k}",
            )
            killed_mid_run.append(delivered_count(crashed))
            workers.kill()
            workers.start()

    wait_until(
        lambda: delivered_after_a_beat(len(records)),
        timeout=120,
        what="every invoice delivered after the kills",
    )

    assert workers.started == 4
    assert all(count < len(records) for count in killed_mid_run), killed_mid_run
    numbers = invoices_by_number(qbo_sandbox, realm, f"T{run}-")
    assert sorted(numbers) == sorted(str(r["Name"]) for r in records)
    assert [n for n, entries in numbers.items() if len(entries) != 1] == []
    customers = qbo_sandbox.state()["data"]["companies"][realm]["customers"]
    for c in range(7):
        assert len([x for x in customers if x["DisplayName"] == f"Customer {run} {c}"]) == 1
    rows = deliveries(crashed)
    assert len(rows) == len(records)
    assert {d.status for d in rows} == {Delivery.Status.DELIVERED}
    assert {d.target_id for d in rows} == {entry["Id"] for [entry] in numbers.values()}
