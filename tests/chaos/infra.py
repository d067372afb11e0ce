"""The chaos run's own Redis and PostgreSQL, so that restarting them disturbs nobody else.

Other people's tests and ``make up`` on this machine use the system's PostgreSQL
(127.0.0.1:5432) and Redis (6379); the chaos run kills and restarts its own
servers on free ports instead. ``python -m tests.chaos.run`` (``make chaos``)
chooses the ports and points the test session at them through the environment
(Django reads it once, before any conftest runs); the session fixture in
``tests/chaos/conftest.py`` starts them, and the fault schedule restarts them.

A private PostgreSQL needs ``initdb`` and, as root, the ``postgres`` OS user to
run it (PostgreSQL refuses to run as root). Where either is missing the run
uses the system's server, prints why, and skips the PostgreSQL fault.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

#: Environment the launcher sets for the test session (and the processes it starts).
ENV_RUN = "NEXIOM_CHAOS_RUN"
ENV_REDIS_PORT = "NEXIOM_CHAOS_REDIS_PORT"
ENV_PG_PORT = "NEXIOM_CHAOS_PG_PORT"
ENV_PG_SKIP = "NEXIOM_CHAOS_PG_SKIP"  # why there is no private PostgreSQL
DATABASE = "nexiom_chaos"  # pytest-django creates test_nexiom_chaos in whichever server


def _wait(check, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up in {timeout:.0f} s")


class PrivateRedis:
    """``redis-server`` on its own port, no persistence: a restart loses every list,
    as a Redis without AOF does in production."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        _wait(answers, f"redis-server on {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def restart(self, down_seconds: float) -> None:
        """SIGKILL, ``down_seconds`` without Redis, then an empty Redis on the same port."""
        self.kill()
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1


@dataclass(frozen=True)
class PgTools:
    bindir: Path
    runas: list[str]  # the command prefix that runs a PostgreSQL binary as its owner
    owner: str | None


def pg_tools() -> PgTools | str:
    """How to run a private cluster here, or the reason it cannot be done."""
    bindir = None
    if shutil.which("pg_config"):
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        bindir = Path(found) if found else None
    if bindir is None or not (bindir / "initdb").exists():
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        bindir = candidates[-1].parent if candidates else None
    if bindir is None:
        return "no initdb on this machine (install the PostgreSQL server package)"
    if os.geteuid() != 0:
        return PgTools(bindir=bindir, runas=[], owner=None)
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "running as root without a postgres OS user to own a private cluster"
    if not shutil.which("runuser"):
        return "running as root without runuser to start PostgreSQL as postgres"
    return PgTools(bindir=bindir, runas=["runuser", "-u", "postgres", "--"], owner="postgres")


class PrivateCluster:
    """A throwaway PostgreSQL cluster (``initdb`` into a temporary directory, trust
    authentication on 127.0.0.1 only) that the fault schedule may crash and restart."""

    def __init__(self, tools: PgTools, port: int) -> None:
        self.tools = tools
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="nexiom-chaos-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self.restarts = 0
        if tools.owner:
            owner = pwd.getpwnam(tools.owner)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        command = [*self.tools.runas, str(self.tools.bindir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr[-2000:]}")

    def init(self) -> None:
        self._run(
            "initdb",
            *("-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"),
            "--no-instructions",
        )

    def start(self) -> None:
        options = " ".join(
            (
                f"-p {self.port}",
                f"-k {self.root}",  # its socket beside it, never in /var/run/postgresql
                "-c listen_addresses=127.0.0.1",
                "-c max_connections=300",
                "-c shared_buffers=128MB",
            )
        )
        self._run(
            "pg_ctl",
            *("-D", str(self.data), "-l", str(self.logfile), "-o", options),
            *("-w", "-t", "60", "start"),
        )

    def crash(self) -> None:
        """``immediate``: every backend is killed, nothing is flushed or checkpointed, the
        next start replays the WAL, as after a crash of the server process."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def restart(self, down_seconds: float) -> None:
        self.crash()
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # not running
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-chars:]
        except OSError:
            return ""
