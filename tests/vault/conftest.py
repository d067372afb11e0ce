"""Vault fixtures: a keyring built in-test, a clean registry of revealed values, the audit.

The audit of reveals is written on the ``vault_audit`` alias: every vault test
that uses the database may use it (see ``tests/vault/helpers.py`` for how to
read it), and starts without the committed audit rows of earlier tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.vault.helpers import committed_audit_rows_delete
from vault.keyring import keyring_entry_generate
from vault.redaction import revealed_forget_all


@pytest.fixture(autouse=True)
def _committed_audit_rows_of_earlier_tests_deleted(request) -> None:
    # At set-up, before the test's own transaction holds any lock.
    if "db" in request.fixturenames:
        request.getfixturevalue("db")
        committed_audit_rows_delete()


class VaultKeys:
    """Random keys by version, made on first use; ``env(2, 1)`` is a NEXIOM_VAULT_KEYS value."""

    def __init__(self) -> None:
        self._entries: dict[int, str] = {}

    def entry(self, version: int) -> str:
        if version not in self._entries:
            self._entries[version] = keyring_entry_generate(version=version)
        return self._entries[version]

    def key_b64(self, version: int) -> str:
        return self.entry(version).split(":", 1)[1]

    def env(self, *versions: int) -> str:
        return ",".join(self.entry(version) for version in versions)


@pytest.fixture(autouse=True)
def vault_keys(settings) -> VaultKeys:
    """Every vault test starts with a one-key keyring (v1) of its own."""
    keys = VaultKeys()
    settings.NEXIOM_VAULT_KEYS = keys.env(1)
    return keys


@pytest.fixture(autouse=True)
def _revealed_values_forgotten() -> Iterator[None]:
    revealed_forget_all()
    yield
    revealed_forget_all()
