"""Vault figures for `make bench`: seals and reveals per second, and the rotation
of 10,000 secrets across 10 tenants (seconds, peak memory), with
``vault_rotate --check`` before and after.

Figures are printed, never asserted on: they depend on the machine. The work
runs on a thread with its own autocommit connection (the test's own connection
sits in the ``db`` fixture's transaction), in tenants of its own (bench-00 ...
bench-09) of the test database, so seals, reveals and rotation batches commit
as they would in production.
"""

from __future__ import annotations

import io
import resource
import secrets
import time
import tracemalloc
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from tenants.services import tenant_provision
from tests.benchmarks.report import figure_add
from vault import crypto
from vault.keyring import keyring_entry_generate, keyring_get
from vault.models import Secret
from vault.services import secret_reveal, secret_seal

TENANTS = 10
SECRETS_PER_TENANT = 1_000
THROUGHPUT_COUNT = 2_000  # through the services: one INSERT each
CRYPTO_COUNT = 50_000  # AES-256-GCM alone
KEYS = {version: keyring_entry_generate(version=version) for version in (1, 2, 3)}


def _token_set() -> dict:
    """About the size of a real OAuth token set (QuickBooks access tokens run ~1 kB)."""
    return {
        "access_token": secrets.token_urlsafe(750),
        "refresh_token": secrets.token_urlsafe(40),
        "token_type": "bearer",
        "expires_at": 1_767_225_600,
        "realm_id": str(secrets.randbelow(10**16)),
    }


def _keyring(*versions: int) -> str:
    return ",".join(KEYS[version] for version in versions)


def _say(line: str = "") -> None:
    print(line, flush=True)


def _on_own_connection(work, *, schema: str | None = None):
    def run():
        try:
            if schema is None:
                return work()
            with schema_context(schema):
                return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture(scope="module")
def bench_tenants(django_db_setup, django_db_blocker):
    started = time.perf_counter()
    with django_db_blocker.unblock():
        tenants = _on_own_connection(
            lambda: [
                tenant_provision(slug=f"bench-{i:02d}", name=f"Bench {i:02d}").tenant
                for i in range(TENANTS)
            ]
        )
    elapsed = time.perf_counter() - started
    _say(f"\n[vault bench] provisioned {TENANTS} tenants in {elapsed:.1f} s")
    return tenants


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f}/s  ({count:,} in {seconds:.2f} s)"


def test_seals_and_reveals_per_second(db, bench_tenants, settings):
    settings.NEXIOM_VAULT_KEYS = _keyring(1)
    keyring = keyring_get()
    payloads = [_token_set() for _ in range(THROUGHPUT_COUNT)]
    plaintexts = [crypto.payload_encode(p) for p in payloads] * (CRYPTO_COUNT // THROUGHPUT_COUNT)
    aads = [
        crypto.associated_data(schema="bench_00", secret_id=uuid.uuid4(), purpose="bench.oauth2")
        for _ in plaintexts
    ]

    started = time.perf_counter()
    sealed = [
        crypto.seal(keyring=keyring, plaintext=plaintext, aad=aad)
        for plaintext, aad in zip(plaintexts, aads, strict=True)
    ]
    crypto_seal = time.perf_counter() - started
    started = time.perf_counter()
    for item, aad in zip(sealed, aads, strict=True):
        crypto.unseal(keyring=keyring, sealed=item, aad=aad, label="bench")
    crypto_open = time.perf_counter() - started

    def seal_then_reveal():
        started = time.perf_counter()
        stored = [secret_seal(data=p, purpose="bench.throughput") for p in payloads]
        sealing = time.perf_counter() - started
        started = time.perf_counter()
        for secret in stored:
            secret_reveal(secret=secret, reason="benchmark", actor="bench")
        revealing = time.perf_counter() - started
        Secret.objects.filter(purpose="bench.throughput").delete()
        return sealing, revealing

    service_seal, service_reveal = _on_own_connection(
        seal_then_reveal, schema=bench_tenants[0].schema_name
    )

    size = sum(map(len, plaintexts)) // len(plaintexts)
    _say(f"[vault bench] payload: OAuth token set, {size} bytes of JSON")
    _say(f"[vault bench] AES-256-GCM only      seal   {_rate(CRYPTO_COUNT, crypto_seal)}")
    _say(f"[vault bench] AES-256-GCM only      open   {_rate(CRYPTO_COUNT, crypto_open)}")
    _say(f"[vault bench] secret_seal (+INSERT)        {_rate(THROUGHPUT_COUNT, service_seal)}")
    _say(f"[vault bench] secret_reveal (+audit row)   {_rate(THROUGHPUT_COUNT, service_reveal)}")
    bare = f"AES-256-GCM alone, {CRYPTO_COUNT:,} x {size} B"
    for measure, count, seconds, against in (
        ("seal: secret_seal (+ INSERT)", THROUGHPUT_COUNT, service_seal, crypto_seal),
        ("reveal: secret_reveal (+ audit row)", THROUGHPUT_COUNT, service_reveal, crypto_open),
    ):
        rate, floor = count / seconds, CRYPTO_COUNT / against
        figure_add(
            "vault",
            measure,
            rate,
            "/s",
            shown=f"{rate:,.0f}/s",
            against=f"{bare} {floor:,.0f}/s",
            ratio=rate / floor,
        )


def _own(tenants) -> list[str]:
    """``--tenant`` for each of the bench's tenants: other benchmarks of the session leave
    tenants whose secrets are sealed with the suite's key, not this bench's keyring."""
    return [arg for tenant in tenants for arg in ("--tenant", tenant.slug)]


def _check(tenants) -> str:
    out = io.StringIO()
    call_command("vault_rotate", "--check", *_own(tenants), stdout=out)
    return out.getvalue()


def _rotate(tenants) -> str:
    out = io.StringIO()
    call_command("vault_rotate", *_own(tenants), stdout=out)  # the progress bar goes to stderr
    return out.getvalue().strip()


def test_rotation_of_10000_secrets_across_10_tenants(db, bench_tenants, settings):
    total = TENANTS * SECRETS_PER_TENANT
    settings.NEXIOM_VAULT_KEYS = _keyring(1)
    started = time.perf_counter()
    for tenant in bench_tenants:
        _on_own_connection(
            lambda: [
                secret_seal(data=_token_set(), purpose="bench.oauth2")
                for _ in range(SECRETS_PER_TENANT)
            ],
            schema=tenant.schema_name,
        )
    seeding = time.perf_counter() - started
    _say(f"\n[vault bench] sealed {total:,} secrets with key v1 in {seeding:.1f} s")

    settings.NEXIOM_VAULT_KEYS = _keyring(2, 1)
    before = _on_own_connection(lambda: _check(bench_tenants))
    started = time.perf_counter()
    summary = _on_own_connection(lambda: _rotate(bench_tenants))
    rotation = time.perf_counter() - started
    after = _on_own_connection(lambda: _check(bench_tenants))

    settings.NEXIOM_VAULT_KEYS = _keyring(3, 2)
    tracemalloc.start()
    started = time.perf_counter()
    _on_own_connection(lambda: _rotate(bench_tenants))
    traced_rotation = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    _say("[vault bench] vault_rotate --check before (NEXIOM_VAULT_KEYS=2:<new>,1:<old>):")
    _say(before.rstrip())
    _say(f"[vault bench] {summary}")
    _say(
        f"[vault bench] ROTATION of {total:,} secrets across {TENANTS} tenants (v1 -> v2): "
        f"{rotation:.2f} s ({total / rotation:,.0f} secrets/s)"
    )
    figure_add(
        "vault",
        f"key rotation, {total:,} secrets over {TENANTS} tenants",
        total / rotation,
        "/s",
        shown=f"{total / rotation:,.0f} secrets/s ({rotation:.1f} s)",
        against=f"sealing them: {total / seeding:,.0f}/s",
        ratio=seeding / rotation,
    )
    _say("[vault bench] vault_rotate --check after:")
    _say(after.rstrip())
    _say(
        f"[vault bench] again v2 -> v3 under tracemalloc: {traced_rotation:.2f} s, "
        f"peak Python heap {peak / 2**20:.1f} MiB; process max RSS {max_rss_kib / 1024:.0f} MiB"
    )
