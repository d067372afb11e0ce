"""The platform's processes as the ``Procfile`` runs them, under a small supervisor.

gunicorn (two sync workers) on a fixed port, the Celery worker on the default
queue, the one on ``delivery`` and beat (whose ``pipeline.sweep`` queues again
what waits in PostgreSQL after Redis lost its lists), all started from
``tests/benchmarks/pipeline_bench_procs``. The chaos schedule SIGKILLs some of
them on purpose; ``check()`` restarts any process that died on its own, as
systemd or Kubernetes would, and counts it as an unplanned exit, which the run
reports (an exit on its own is a finding, not a fault we injected).
"""

from __future__ import annotations

import random
import time

from connectors.sdk.testing import free_port
from tests.benchmarks import pipeline_bench_procs as procs

QUEUES = {"default": "celery", "delivery": "delivery"}


class Platform:
    def __init__(self, env: dict[str, str], tag: str) -> None:
        self.env = env
        self.tag = tag
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.web: procs.Proc | None = None
        self.workers: dict[str, procs.Proc] = {}  # kind -> process
        self.beat: procs.Proc | None = None
        self.generation = 0
        self.unplanned: list[str] = []

    def _node(self, kind: str) -> str:
        return f"chaos-{kind}-{self.tag}{self.generation}@chaos"

    def start(self) -> None:
        self.start_web()
        self.start_workers(*QUEUES)
        self.beat = procs.beat(self.env)

    def start_web(self) -> None:
        self.web = procs.gunicorn_at(self.env, self.port)

    def start_workers(self, *kinds: str) -> None:
        self.generation += 1
        started = {}
        for kind in kinds:
            node = self._node(kind)
            self.workers[kind] = procs.celery_worker(self.env, QUEUES[kind], node)
            started[node] = self.workers[kind]
        procs.wait_pings(started)

    def kill_web(self) -> None:
        if self.web is not None:
            procs.kill_group(self.web)
            self.web = None

    def kill_worker(self, kind: str) -> int:
        """SIGKILL the worker (main process and pool) mid-task; returns its pid."""
        proc = self.workers.pop(kind)
        procs.kill_group(proc)
        return proc.pid

    def check(self) -> None:
        """Restart what died on its own (noted in ``unplanned``)."""
        for kind, proc in list(self.workers.items()):
            if not proc.alive():
                self.unplanned.append(f"worker {kind} exited: {proc.output(600)!r}")
                self.workers.pop(kind)
                self.start_workers(kind)
        if self.beat is not None and not self.beat.alive():
            self.unplanned.append(f"beat exited: {self.beat.output(600)!r}")
            self.beat = procs.beat(self.env)
        if self.web is not None and not self.web.alive():
            self.unplanned.append(f"web exited: {self.web.output(600)!r}")
            self.start_web()

    def stop(self) -> None:
        for proc in [self.web, self.beat, *self.workers.values()]:
            if proc is not None:
                proc.stop()


def jitter(low: float, high: float) -> float:
    return random.uniform(low, high)


def wait(seconds: float, platform: Platform | None = None) -> None:
    """Sleep, supervising the platform meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if platform is not None:
            platform.check()
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
