"""Small helpers of the chaos tests: reads that survive a PostgreSQL restart, the sender
process, the sandbox's invoices, printing a table."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connections

from connectors.sdk.testing import SandboxProcess
from tests.benchmarks.pipeline_bench_procs import ROOT

T = TypeVar("T")


def say(line: str = "") -> None:
    print(line, flush=True)


def db_read(read: Callable[[], T], timeout: float = 120) -> T:
    """``read()``, again on a new connection while PostgreSQL is restarting."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return read()
        except (OperationalError, InterfaceError):
            connections.close_all()  # the old connection died with the server
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


class Sender:
    """``tests.chaos.sender`` running in its own process."""

    def __init__(self, spec: dict, tmp: Path, name: str) -> None:
        self.spec_path = tmp / f"{name}-spec.json"
        self.outcomes_path = tmp / f"{name}-outcomes.jsonl"
        self.spec_path.write_text(json.dumps(spec))
        out = self.outcomes_path
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.sender", *(str(self.spec_path), str(out))],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def done(self) -> bool:
        return self.process.poll() is not None

    def result(self, timeout: float) -> dict:
        out, err = self.process.communicate(timeout=timeout)
        if self.process.returncode:
            raise RuntimeError(f"sender failed: {err[-3000:]}")
        return json.loads(out.strip().splitlines()[-1])

    def outcomes(self) -> list[dict]:
        if not self.outcomes_path.exists():
            return []
        lines = self.outcomes_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def kill(self) -> None:
        if not self.done():
            self.process.kill()
            self.process.wait(10)


def sandbox_doc_numbers(sandbox: SandboxProcess, prefix: str) -> Counter[str]:
    """How many invoices each DocNumber starting with ``prefix`` has, over every company."""
    companies = sandbox.state()["data"]["companies"]
    return Counter(
        invoice["DocNumber"]
        for company in companies.values()
        for invoice in company["invoices"]
        if invoice["DocNumber"].startswith(prefix)
    )


def refreshes(sandbox: SandboxProcess, since: float) -> int:
    """Refresh-token grants the sandbox answered since ``since`` (its clock)."""
    calls = sandbox.state()["oauth"]["token_calls"]
    return sum(
        1
        for call in calls
        if call["at"] >= since and call["grant_type"] == "refresh_token" and call["outcome"] == "ok"
    )


def table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    say("")
    say(title)
    for name, value in rows:
        say(f"  {name.ljust(width)}  {value}")
