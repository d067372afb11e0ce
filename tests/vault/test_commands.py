"""python manage.py vault_rotate [--tenant SLUG] [--check]"""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from tests.vault.helpers import audit_rows
from vault.models import Secret
from vault.rotation import key_versions_count
from vault.services import secret_reveal, secret_seal


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("vault_rotate", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def two_tenants_on_v1(tenant_a, tenant_b):
    """alpha holds 3 secrets, beta 2, all sealed with key v1."""
    sealed = {}
    for tenant, count in ((tenant_a, 3), (tenant_b, 2)):
        with schema_context(tenant.schema_name):
            for i in range(count):
                data = {"api_key": f"{tenant.slug}-key-{i}-0123456789"}
                sealed[secret_seal(data=data, purpose="acme.api_key").pk] = (tenant, data)
    return sealed


def _counts(tenant) -> dict[int, int]:
    with schema_context(tenant.schema_name):
        return key_versions_count()


def test_check_prints_secrets_per_key_version_and_tenant(two_tenants_on_v1, settings, vault_keys):
    settings.NEXIOM_VAULT_KEYS = vault_keys.env(2, 1)

    out, _ = _run("--check")

    assert out.splitlines() == [
        "Keyring: v2 (newest, seals), v1",
        "tenant            v2       v1    total",
        "alpha              0        3        3",
        "beta               0        2        2",
        "all tenants        0        5        5",
        "v2: 0 secrets (newest key).",
        "v1: 5 secrets still sealed with it: run vault_rotate before dropping it from "
        "NEXIOM_VAULT_KEYS.",
    ]


def test_rotate_then_check_shows_the_old_key_unused(
    two_tenants_on_v1, settings, vault_keys, tenant_a, tenant_b
):
    settings.NEXIOM_VAULT_KEYS = vault_keys.env(2, 1)

    out, err = _run("--batch-size", "2", "--verbosity", "2")
    check, _ = _run("--check")

    assert out.splitlines() == [
        "alpha: 3 re-sealed",
        "beta: 2 re-sealed",
        "Re-sealed 5 secrets with key v2 in 2 tenants.",
    ]
    assert "re-sealing with key v2" in err and "100%" in err and "5/5" in err
    assert check.splitlines()[1:] == [
        "tenant            v2       v1    total",
        "alpha              3        0        3",
        "beta               2        0        2",
        "all tenants        5        0        5",
        "v2: 5 secrets (newest key).",
        "v1: unused: it can be dropped from NEXIOM_VAULT_KEYS.",
    ]
    # Dropping v1 as --check allows: every secret still opens.
    settings.NEXIOM_VAULT_KEYS = vault_keys.env(2)
    for pk, (tenant, data) in two_tenants_on_v1.items():
        with schema_context(tenant.schema_name):
            secret = Secret.objects.get(pk=pk)
            assert secret_reveal(secret=secret, reason="after rotation", actor="tests") == data


def test_rotate_one_tenant_only(two_tenants_on_v1, settings, vault_keys, tenant_a, tenant_b):
    settings.NEXIOM_VAULT_KEYS = vault_keys.env(2, 1)

    out, _ = _run("--tenant", "beta")
    check, _ = _run("--check", "--tenant", "beta")

    assert out == "Re-sealed 2 secrets with key v2 in 1 tenant.\n"
    assert _counts(tenant_a) == {1: 3}
    assert _counts(tenant_b) == {2: 2}
    assert check.splitlines()[-1] == (
        "v1: unused in these tenants; run --check without --tenant before dropping it."
    )


def test_a_rerun_has_nothing_left_to_do(two_tenants_on_v1, settings, vault_keys):
    settings.NEXIOM_VAULT_KEYS = vault_keys.env(2, 1)
    _run("--verbosity", "0")

    out, err = _run("--verbosity", "0")

    assert out == "Re-sealed 0 secrets with key v2 in 2 tenants.\n"
    assert err == ""


def test_an_unknown_tenant_is_refused(db):
    with pytest.raises(CommandError, match="No tenant with slug gamma"):
        _run("--tenant", "gamma")


def test_rotation_refuses_to_start_when_a_key_in_use_is_missing(
    two_tenants_on_v1, settings, vault_keys, tenant_a
):
    settings.NEXIOM_VAULT_KEYS = vault_keys.env(3, 2)
    out = io.StringIO()

    with pytest.raises(CommandError, match=r"key versions the keyring does not hold \(v1\)"):
        call_command("vault_rotate", stdout=out)

    assert "v1: 5 secrets, NOT IN THE KEYRING: they cannot be opened; put key v1 back." in (
        out.getvalue()
    )
    assert _counts(tenant_a) == {1: 3}


def test_a_misconfigured_keyring_is_a_command_error(db, settings):
    settings.NEXIOM_VAULT_KEYS = "1:tooshort"

    with pytest.raises(CommandError, match="NEXIOM_VAULT_KEYS: key v1 is"):
        _run("--check")


def test_a_batch_size_below_one_is_refused(db):
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        _run("--batch-size", "0")


def _damage(tenant, pk) -> None:
    with schema_context(tenant.schema_name):
        stored = bytes(Secret.objects.get(pk=pk).ciphertext)
        Secret.objects.filter(pk=pk).update(
            ciphertext=stored[:3] + bytes([stored[3] ^ 0x80]) + stored[4:]
        )


def test_a_damaged_secret_does_not_stop_the_rotation_of_the_others(
    two_tenants_on_v1, settings, vault_keys, tenant_a, tenant_b
):
    damaged = sorted(pk for pk, (tenant, _) in two_tenants_on_v1.items() if tenant == tenant_a)[1]
    _damage(tenant_a, damaged)
    settings.NEXIOM_VAULT_KEYS = vault_keys.env(2, 1)
    out = io.StringIO()

    with pytest.raises(CommandError) as error:
        call_command("vault_rotate", "--batch-size", "2", stdout=out, stderr=io.StringIO())

    assert str(error.value).startswith("1 secret did not open and was not re-sealed")
    lines = out.getvalue().splitlines()
    assert lines[:2] == [
        "Re-sealed 4 secrets with key v2 in 2 tenants.",
        "1 secret did not open and was not re-sealed:",
    ]
    assert lines[2].startswith(
        f"  alpha: secret {damaged} (purpose acme.api_key): secret_tampered: secret {damaged} "
        "(purpose acme.api_key) in schema alpha does not open with key v1"
    )
    assert _counts(tenant_a) == {1: 1, 2: 2}
    assert _counts(tenant_b) == {2: 2}
    for pk, (tenant, data) in two_tenants_on_v1.items():
        if pk != damaged:
            with schema_context(tenant.schema_name):
                secret = Secret.objects.get(pk=pk)
                assert secret_reveal(secret=secret, reason="after", actor="tests") == data
    with schema_context(tenant_a.schema_name):
        failed = audit_rows().get(outcome="failed")
    assert (failed.secret_ref, failed.actor_kind, failed.actor_label, failed.reason) == (
        damaged,
        "process",
        "vault_rotate",
        "re-seal with key v2",
    )
    assert failed.failure.startswith(f"secret_tampered: secret {damaged} (purpose acme.api_key)")


def test_check_opens_every_secret_and_lists_the_damaged_ones(
    two_tenants_on_v1, settings, vault_keys, tenant_a, tenant_b
):
    damaged = next(pk for pk, (tenant, _) in two_tenants_on_v1.items() if tenant == tenant_b)
    _damage(tenant_b, damaged)
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 secret does not open"):
        call_command("vault_rotate", "--check", "--batch-size", "1", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[-2:] == [
        "1 secret does not open:",
        f"  beta: secret {damaged} (purpose acme.api_key): secret_tampered: secret {damaged} "
        "(purpose acme.api_key) in schema beta does not open with key v1: its ciphertext, nonce "
        "or identity (schema, id, purpose) was altered or copied from another row or tenant, or "
        "key v1 in NEXIOM_VAULT_KEYS is not the key that sealed it.",
    ]
    with schema_context(tenant_b.schema_name):
        assert audit_rows().count() == 0  # --check writes nothing
