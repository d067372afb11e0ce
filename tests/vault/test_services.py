"""seal / reveal / replace / delete on the real PostgreSQL, in tenant schemas."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from accounts.models import User
from tests.factories import UserFactory
from tests.vault.helpers import audit_rows, on_own_connection
from tests.vault.strategies import payloads
from vault.audit import AUDIT_DATABASE
from vault.errors import (
    KeyVersionUnknown,
    RevealRefused,
    SecretPayloadInvalid,
    SecretTampered,
    TenantRequired,
    VaultMisconfigured,
)
from vault.models import Secret, SecretRead
from vault.redaction import revealed_values
from vault.services import secret_delete, secret_replace, secret_reveal, secret_seal

TOKENS = {"access_token": "at-7c1f0e9b2d4a", "refresh_token": "rt-5e8a3b6c9f01", "expires_in": 3600}


@pytest.fixture
def alpha(tenant_a):
    with schema_context(tenant_a.schema_name):
        yield tenant_a


def _fresh(secret: Secret) -> Secret:
    return Secret.objects.get(pk=secret.pk)


def _assert_one_failed_read(secret, failure: str, *, reason=None, actor="tests") -> None:
    read = audit_rows().get()
    assert (read.secret_ref, read.purpose, read.actor_label, read.outcome) == (
        secret.pk,
        secret.purpose,
        actor,
        "failed",
    )
    assert read.failure == failure
    if reason is not None:
        assert read.reason == reason


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=payloads)
def test_any_json_object_round_trips_through_the_database(alpha, data):
    secret = secret_seal(data=data, purpose="test.round_trip")

    assert secret_reveal(secret=_fresh(secret), reason="round trip", actor="tests") == data


def test_seal_stores_only_ciphertext(alpha):
    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")

    row = _fresh(secret)
    assert (row.purpose, row.key_version, row.field_count) == ("quickbooks.oauth2", 1, 3)
    assert len(bytes(row.nonce)) == 12
    assert b"at-7c1f0e9b2d4a" not in bytes(row.ciphertext)
    assert row.replaced is None and row.rotated is None
    assert str(row) == "quickbooks.oauth2 •••• (3 fields, key v1)"


def test_reveal_by_a_user_is_audited(alpha):
    user = UserFactory(username="dora")
    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")

    data = secret_reveal(secret=secret, reason="  test the connection ", actor=user)

    assert data == TOKENS
    read = audit_rows().get()
    assert (read.secret_id, read.secret_ref, read.purpose) == (
        secret.pk,
        secret.pk,
        "quickbooks.oauth2",
    )
    assert (read.actor_kind, read.actor_user_id, read.actor_label) == ("user", user.pk, "dora")
    assert (read.reason, read.outcome, read.failure) == ("test the connection", "revealed", "")
    assert read.created is not None


def test_reveal_by_a_named_process_is_audited(alpha):
    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")

    secret_reveal(secret=secret, reason="webhook verification", actor="pipeline.gateway")

    read = audit_rows().get()
    assert (read.actor_kind, read.actor_user, read.actor_label) == (
        "process",
        None,
        "pipeline.gateway",
    )


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reveal_without_a_reason_is_refused_and_not_audited(alpha, reason):
    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")

    with pytest.raises(RevealRefused, match="needs a reason"):
        secret_reveal(secret=secret, reason=reason, actor="tests")

    assert audit_rows().count() == 0
    assert revealed_values() == ()


@pytest.mark.parametrize(
    "actor",
    [None, "  ", AnonymousUser(), User(username="never-saved")],
    ids=["none", "blank", "anonymous", "unsaved user"],
)
def test_a_reveal_without_an_actor_outside_a_task_is_refused(alpha, actor):
    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")

    with pytest.raises(RevealRefused):
        secret_reveal(secret=secret, reason="curious", actor=actor)

    assert audit_rows().count() == 0


def test_replace_reseals_new_data_under_the_same_id(alpha, settings, vault_keys):
    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")
    settings.NEXIOM_VAULT_KEYS = vault_keys.env(2, 1)
    new_tokens = {"access_token": "at-new-000111222", "refresh_token": "rt-new-333444555"}

    returned = secret_replace(secret=secret, data=new_tokens)

    row = _fresh(secret)
    assert returned is secret
    assert (row.key_version, row.field_count, secret.key_version) == (2, 2, 2)
    assert row.replaced is not None
    assert secret_reveal(secret=row, reason="after replace", actor="tests") == new_tokens
    assert Secret.objects.count() == 1


def test_a_ciphertext_copied_to_another_row_does_not_open(alpha):
    original = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")
    other = secret_seal(data={"access_token": "at-other-999"}, purpose="quickbooks.oauth2")
    Secret.objects.filter(pk=other.pk).update(
        nonce=original.nonce, ciphertext=original.ciphertext, key_version=original.key_version
    )

    with pytest.raises(SecretTampered) as error:
        secret_reveal(secret=_fresh(other), reason="copied", actor="tests")

    assert str(error.value).startswith(
        f"secret {other.pk} (purpose quickbooks.oauth2) in schema alpha does not open with key v1"
    )
    _assert_one_failed_read(other, f"secret_tampered: {error.value}")


def test_a_ciphertext_copied_to_another_tenant_does_not_open(alpha, tenant_b):
    original = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")
    with schema_context(tenant_b.schema_name):
        Secret.objects.create(
            id=original.pk,  # even the same id
            purpose=original.purpose,
            key_version=original.key_version,
            nonce=original.nonce,
            ciphertext=original.ciphertext,
            field_count=original.field_count,
        )

        with pytest.raises(SecretTampered, match="in schema beta does not open") as error:
            secret_reveal(secret=Secret.objects.get(pk=original.pk), reason="stolen", actor="x")

        _assert_one_failed_read(original, f"secret_tampered: {error.value}", actor="x")
    assert audit_rows().count() == 0  # nothing in alpha
    assert secret_reveal(secret=_fresh(original), reason="still fine", actor="tests") == TOKENS


@pytest.mark.parametrize("column", ["ciphertext", "nonce"])
def test_a_byte_changed_in_the_database_fails_loudly(alpha, column):
    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")
    stored = bytes(getattr(secret, column))
    Secret.objects.filter(pk=secret.pk).update(
        **{column: stored[:3] + bytes([stored[3] ^ 0x80]) + stored[4:]}
    )

    with pytest.raises(SecretTampered) as error:
        secret_reveal(secret=_fresh(secret), reason="tampered", actor="tests")

    assert "at-7c1f0e9b2d4a" not in str(error.value)
    _assert_one_failed_read(secret, f"secret_tampered: {error.value}", reason="tampered")


def test_a_changed_purpose_fails_loudly(alpha):
    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")
    Secret.objects.filter(pk=secret.pk).update(purpose="salesforce.oauth2")

    with pytest.raises(SecretTampered, match=r"purpose salesforce\.oauth2"):
        secret_reveal(secret=_fresh(secret), reason="tampered", actor="tests")


def test_a_secret_whose_key_left_the_keyring_fails_with_a_clear_error(alpha, settings, vault_keys):
    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")
    settings.NEXIOM_VAULT_KEYS = vault_keys.env(3, 2)

    with pytest.raises(KeyVersionUnknown) as error:
        secret_reveal(secret=_fresh(secret), reason="key gone", actor="tests")

    assert str(error.value) == (
        f"secret {secret.pk} (purpose quickbooks.oauth2) in schema alpha is sealed with key v1, "
        "which the keyring does not hold (NEXIOM_VAULT_KEYS has v3, v2); put key v1 back into "
        "NEXIOM_VAULT_KEYS."
    )
    _assert_one_failed_read(secret, f"key_version_unknown: {error.value}", reason="key gone")


def test_a_different_key_under_the_same_version_fails_with_a_clear_error(alpha, settings):
    from vault.keyring import keyring_entry_generate

    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")
    settings.NEXIOM_VAULT_KEYS = keyring_entry_generate(version=1)

    with pytest.raises(SecretTampered, match="or key v1 in NEXIOM_VAULT_KEYS is not the key"):
        secret_reveal(secret=_fresh(secret), reason="wrong key", actor="tests")


def test_the_public_schema_has_no_vault(db):
    assert connection.schema_name == "public"

    with pytest.raises(TenantRequired, match="public schema"):
        secret_seal(data=TOKENS, purpose="quickbooks.oauth2")


@pytest.mark.parametrize("purpose", ["", "Upper.Case", "with space", "x" * 101, None])
def test_a_bad_purpose_is_refused(alpha, purpose):
    with pytest.raises(SecretPayloadInvalid, match="A purpose is"):
        secret_seal(data=TOKENS, purpose=purpose)

    assert Secret.objects.count() == 0


def test_bad_data_is_refused_without_echoing_it(alpha):
    with pytest.raises(SecretPayloadInvalid) as error:
        secret_seal(data={"api_key": b"sk_live_bytes_value"}, purpose="acme.api_key")

    assert "sk_live" not in str(error.value)
    assert Secret.objects.count() == 0


def test_deleting_a_secret_keeps_its_reads(alpha):
    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")
    # Revealed by another process: its audit row is committed, as in production.
    on_own_connection(
        lambda: secret_reveal(secret=secret, reason="before deletion", actor="tests"),
        schema="alpha",
    )
    secret_id = secret.pk

    secret_delete(secret=secret)

    assert not Secret.objects.filter(pk=secret_id).exists()
    read = SecretRead.objects.get()
    assert (read.secret_id, read.secret_ref, read.purpose) == (None, secret_id, "quickbooks.oauth2")
    assert str(read).startswith("quickbooks.oauth2 read by tests at ")


def test_the_audit_row_is_committed_even_when_the_caller_rolls_back(tenant_a):
    def reveal_then_fail():
        secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")
        with pytest.raises(RuntimeError), transaction.atomic():
            assert secret_reveal(secret=secret, reason="used, then undone", actor="tests")
            raise RuntimeError("the caller failed after using the secret")
        return secret.pk

    try:
        secret_id = on_own_connection(reveal_then_fail, schema="alpha")

        reads = on_own_connection(
            lambda: list(SecretRead.objects.values_list("secret_ref", "outcome", "reason")),
            schema="alpha",
        )
        assert reads == [(secret_id, "revealed", "used, then undone")]
    finally:
        on_own_connection(
            lambda: (SecretRead.objects.all().delete(), Secret.objects.all().delete()),
            schema="alpha",
        )


def test_the_audit_row_survives_a_rollback_to_a_savepoint(alpha):
    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")

    with pytest.raises(RuntimeError), transaction.atomic():
        secret_reveal(secret=secret, reason="used, then undone", actor="tests")
        raise RuntimeError("the caller failed after using the secret")

    read = audit_rows().get()
    assert (read.secret_ref, read.outcome, read.reason) == (
        secret.pk,
        "revealed",
        "used, then undone",
    )


def test_a_transaction_on_the_audit_connection_stops_the_reveal(alpha):
    secret = secret_seal(data=TOKENS, purpose="quickbooks.oauth2")

    with (
        pytest.raises(VaultMisconfigured, match="'vault_audit' connection is inside a transaction"),
        transaction.atomic(using=AUDIT_DATABASE),
    ):
        secret_reveal(secret=secret, reason="the row could be rolled back", actor="tests")

    assert revealed_values() == ()  # nothing handed out
