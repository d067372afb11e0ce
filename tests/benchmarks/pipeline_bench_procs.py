"""The pipeline benchmark's processes: gunicorn, the two Celery workers, the load generator.

Each runs as production runs it (``Procfile``: gunicorn with two sync
workers; one Celery worker on the default queue and one on ``delivery``,
prefork, two processes each) against the test database and the test Redis,
with the benchmark's settings module (``pipeline_bench_settings``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from django.db import connections

from connectors.sdk.testing import free_port
from nexiom.celery import app

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.benchmarks.pipeline_bench_settings"


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a benchmark process: the test database, the test Redis."""
    db = connections["default"].settings_dict
    url = f"postgres://{db['USER']}"
    if db.get("PASSWORD"):
        url += f":{db['PASSWORD']}"
    url += f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": url,
        "NEXIOM_LOG_LEVEL": "WARNING",
        **extra,
    }


class Proc:
    """A child process with its output in a temporary file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix=f"bench-{name}-", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self, tail: int = 3000) -> str:
        return Path(self.log.name).read_text(errors="replace")[-tail:]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


def gunicorn(env: dict[str, str]) -> tuple[Proc, str]:
    """gunicorn as the Procfile runs it (two sync workers), on a free port; (process, base URL)."""
    port = free_port()
    return gunicorn_at(env, port), f"http://127.0.0.1:{port}"


def _wait_web(proc: Proc, base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"gunicorn exited: {proc.output()}")
        try:
            requests.get(f"{base}/healthz", timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not start: {proc.output()}")


def workers(env: dict[str, str], tag: str) -> list[Proc]:
    """The Procfile's two workers; returns once both answer a ping."""
    common = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "nexiom",
        "worker",
        "--loglevel=WARNING",
        "--concurrency=2",
        "--include",
        "tests.benchmarks.pipeline_reference",
    ]
    names = {f"bench-default-{tag}@bench": "celery", f"bench-delivery-{tag}@bench": "delivery"}
    procs = [
        Proc(name.split("@")[0], [*common, "-Q", queue, "-n", name], env)
        for name, queue in names.items()
    ]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for proc in procs:
            if not proc.alive():
                raise RuntimeError(f"worker {proc.name} exited: {proc.output()}")
        replies = app.control.ping(destination=list(names), timeout=0.5) or []
        if {name for reply in replies for name in reply} >= set(names):
            return procs
    for proc in procs:
        proc.stop()
    raise RuntimeError("workers did not answer a ping within 60 s")


def load(mode: str, spec: dict, env: dict[str, str], tmp: Path, timeout: float = 1800) -> dict:
    """Run the load generator once; its JSON line."""
    path = tmp / f"spec-{mode}-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(spec))
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.pipeline_load", mode, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise RuntimeError(f"load generator failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            found = [int(p) for p in children.read().split()]
    except OSError:
        return []
    return found + [grand for child in found for grand in _children(child)]


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_rss(pid: int) -> tuple[float, list[float]]:
    """(total MB, per process MB) of a process and its children."""
    sizes = [rss_mb(p) for p in [pid, *_children(pid)]]
    return sum(sizes), sizes


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


# --- for the chaos runs (tests/chaos): processes started, killed and started again -----------


def gunicorn_at(env: dict[str, str], port: int) -> Proc:
    """gunicorn on a given port: a restarted web process comes back where its senders knew
    it (SO_REUSEADDR lets it bind at once)."""
    proc = Proc(
        "web",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "nexiom.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--graceful-timeout",
            "10",
        ],
        env,
    )
    try:
        _wait_web(proc, f"http://127.0.0.1:{port}")
    except BaseException:
        proc.stop()
        raise
    return proc


def celery_worker(env: dict[str, str], queue: str, name: str) -> Proc:
    """One of the Procfile's workers (prefork, two processes) on ``queue``, not waited for."""
    return Proc(
        name.split("@")[0],
        [
            *(sys.executable, "-m", "celery", "-A", "nexiom", "worker"),
            *("--loglevel=WARNING", "--concurrency=2", "-Q", queue, "-n", name),
        ],
        env,
    )


def wait_pings(procs: dict[str, Proc], timeout: float = 90) -> None:
    """Until every worker (node name → process) answers a ping."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs.values():
            if not proc.alive():
                raise RuntimeError(f"worker {proc.name} exited: {proc.output()}")
        try:
            replies = app.control.ping(destination=list(procs), timeout=0.5) or []
        except Exception:  # the broker restarting (chaos): ask again
            time.sleep(0.5)
            continue
        if {name for reply in replies for name in reply} >= set(procs):
            return
    raise RuntimeError(f"workers {sorted(procs)} did not answer a ping within {timeout:.0f} s")


def beat(env: dict[str, str]) -> Proc:
    """The Procfile's beat (database scheduler): the pipeline's sweeper every 10 s."""
    return Proc(
        "beat",
        [
            *(sys.executable, "-m", "celery", "-A", "nexiom", "beat", "--loglevel=WARNING"),
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
        ],
        env,
    )


def kill_group(proc: Proc) -> None:
    """SIGKILL to the process and all its children (its session): no goodbye, as a crash."""
    if proc.alive():
        os.killpg(proc.pid, signal.SIGKILL)
        proc.proc.wait(10)
    proc.log.close()
