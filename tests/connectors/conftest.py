"""The three sandboxes as real processes for the engine's tests, one per test session.

Each connector's ``<KEY>_LOCAL_URL`` points at its sandbox while the session
runs, so connections in the ``local`` environment talk to these processes.
Tests that change a sandbox's state (faults, expiry) reset it afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from connectors.sdk.testing import SandboxProcess

SANDBOXES = {
    "quickbooks": ("connectors.quickbooks.sandbox", "--rate-limit", "off"),
    "salesforce": ("connectors.salesforce.sandbox", "--rate-limit", "off"),
    "revenova": ("connectors.revenova.sandbox",),
}


def _running(key: str) -> Iterator[SandboxProcess]:
    module, *args = SANDBOXES[key]
    process = SandboxProcess(module, tuple(args))
    variable = f"{key.upper()}_LOCAL_URL"
    saved = os.environ.get(variable)
    os.environ[variable] = process.base_url
    try:
        yield process
    finally:
        process.stop()
        if saved is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = saved


@pytest.fixture(scope="session")
def qbo_sandbox() -> Iterator[SandboxProcess]:
    yield from _running("quickbooks")


@pytest.fixture(scope="session")
def sf_sandbox() -> Iterator[SandboxProcess]:
    yield from _running("salesforce")


@pytest.fixture(scope="session")
def revenova_sandbox() -> Iterator[SandboxProcess]:
    yield from _running("revenova")


@pytest.fixture
def qbo(qbo_sandbox) -> Iterator[SandboxProcess]:
    """The QuickBooks sandbox, with faults cleared after the test."""
    yield qbo_sandbox
    qbo_sandbox.http.delete(qbo_sandbox.url("/__sandbox__/faults"), timeout=5)


@pytest.fixture
def sf(sf_sandbox) -> Iterator[SandboxProcess]:
    yield sf_sandbox
    sf_sandbox.http.delete(sf_sandbox.url("/__sandbox__/faults"), timeout=5)


@pytest.fixture
def revenova(revenova_sandbox) -> Iterator[SandboxProcess]:
    yield revenova_sandbox
    revenova_sandbox.http.delete(revenova_sandbox.url("/__sandbox__/faults"), timeout=5)
