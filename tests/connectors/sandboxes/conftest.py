"""Sandboxes as real processes, driven over HTTP with ``requests`` as a client would.

``sandbox_process(module, *args)`` starts ``python -m <module> --port <free port> *args``
(``connectors.sdk.testing.SandboxProcess``), waits until ``GET /__sandbox__/state``
answers and stops the process when the test module ends. No database: these
tests never take the ``db`` fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from connectors.sdk.testing import SandboxProcess


@pytest.fixture(scope="module")
def sandbox_process() -> Iterator[Callable[..., SandboxProcess]]:
    """``sandbox_process("connectors.quickbooks.sandbox", "--rate-limit", "off")``."""
    started: list[SandboxProcess] = []

    def start(module: str, *args: str) -> SandboxProcess:
        process = SandboxProcess(module, args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
