"""AES-256-GCM with the secret's identity as associated data; no database involved."""

from __future__ import annotations

import base64
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.vault.strategies import payloads
from vault import crypto
from vault.errors import KeyVersionUnknown, SecretPayloadInvalid, SecretTampered
from vault.keyring import keyring_entry_generate, keyring_parse

KEYRING = keyring_parse(keyring_entry_generate(version=1))
SECRET_ID = uuid.UUID("8d5e0a3c-6f49-4a53-9a1e-2b7c0f4d1e22")
AAD = crypto.associated_data(schema="alpha", secret_id=SECRET_ID, purpose="acme.api_key")
PLAINTEXT = crypto.payload_encode({"api_key": "sk_live_9f8e7d6c5b4a", "account": "ACME-42"})
LABEL = f"secret {SECRET_ID} (purpose acme.api_key) in schema alpha"


def _open(sealed, *, keyring=KEYRING, aad=AAD) -> bytes:
    return crypto.unseal(keyring=keyring, sealed=sealed, aad=aad, label=LABEL)


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@given(data=payloads)
def test_any_json_object_round_trips(data):
    plaintext = crypto.payload_encode(data)

    sealed = crypto.seal(keyring=KEYRING, plaintext=plaintext, aad=AAD)

    assert crypto.payload_decode(_open(sealed)) == data
    assert sealed.key_version == 1
    assert len(sealed.nonce) == 12
    assert len(sealed.ciphertext) == len(plaintext) + 16  # the GCM tag


def test_every_seal_draws_a_fresh_nonce():
    first = crypto.seal(keyring=KEYRING, plaintext=PLAINTEXT, aad=AAD)
    second = crypto.seal(keyring=KEYRING, plaintext=PLAINTEXT, aad=AAD)

    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext


def test_the_newest_key_seals_and_every_key_opens():
    entry_1, entry_2 = keyring_entry_generate(version=1), keyring_entry_generate(version=2)
    v1_only = keyring_parse(entry_1)
    v2_and_v1 = keyring_parse(f"{entry_2},{entry_1}")
    sealed_v1 = crypto.seal(keyring=v1_only, plaintext=PLAINTEXT, aad=AAD)

    sealed_v2 = crypto.seal(keyring=v2_and_v1, plaintext=PLAINTEXT, aad=AAD)

    assert sealed_v2.key_version == 2
    assert _open(sealed_v1, keyring=v2_and_v1) == PLAINTEXT
    assert _open(sealed_v2, keyring=v2_and_v1) == PLAINTEXT


@given(index=st.integers(min_value=0, max_value=len(PLAINTEXT) + 15))
def test_a_flipped_byte_of_ciphertext_or_tag_fails(index):
    sealed = crypto.seal(keyring=KEYRING, plaintext=PLAINTEXT, aad=AAD)
    tampered = crypto.Sealed(
        key_version=1, nonce=sealed.nonce, ciphertext=_flip(sealed.ciphertext, index)
    )

    with pytest.raises(SecretTampered):
        _open(tampered)


@given(index=st.integers(min_value=0, max_value=11))
def test_a_flipped_byte_of_the_nonce_fails(index):
    sealed = crypto.seal(keyring=KEYRING, plaintext=PLAINTEXT, aad=AAD)
    tampered = crypto.Sealed(
        key_version=1, nonce=_flip(sealed.nonce, index), ciphertext=sealed.ciphertext
    )

    with pytest.raises(SecretTampered):
        _open(tampered)


@given(index=st.integers(min_value=0, max_value=len(AAD) - 1))
def test_a_flipped_byte_of_the_associated_data_fails(index):
    sealed = crypto.seal(keyring=KEYRING, plaintext=PLAINTEXT, aad=AAD)

    with pytest.raises(SecretTampered):
        _open(sealed, aad=_flip(AAD, index))


@pytest.mark.parametrize(
    "identity",
    [
        {"schema": "beta", "secret_id": SECRET_ID, "purpose": "acme.api_key"},
        {"schema": "alpha", "secret_id": uuid.uuid4(), "purpose": "acme.api_key"},
        {"schema": "alpha", "secret_id": SECRET_ID, "purpose": "acme.oauth2"},
    ],
    ids=["other tenant", "other row", "other purpose"],
)
def test_a_ciphertext_bound_elsewhere_does_not_open(identity):
    sealed = crypto.seal(keyring=KEYRING, plaintext=PLAINTEXT, aad=AAD)

    with pytest.raises(SecretTampered):
        _open(sealed, aad=crypto.associated_data(**identity))


def test_a_nonce_of_the_wrong_length_fails_as_tampered():
    sealed = crypto.seal(keyring=KEYRING, plaintext=PLAINTEXT, aad=AAD)

    with pytest.raises(SecretTampered):
        _open(crypto.Sealed(key_version=1, nonce=sealed.nonce[:8], ciphertext=sealed.ciphertext))


def test_the_wrong_key_under_the_same_version_fails_with_a_clear_error():
    sealed = crypto.seal(keyring=KEYRING, plaintext=PLAINTEXT, aad=AAD)
    impostor = keyring_parse(keyring_entry_generate(version=1))

    with pytest.raises(SecretTampered) as error:
        _open(sealed, keyring=impostor)

    assert str(error.value) == (
        f"{LABEL} does not open with key v1: its ciphertext, nonce or identity (schema, id, "
        "purpose) was altered or copied from another row or tenant, or key v1 in "
        "NEXIOM_VAULT_KEYS is not the key that sealed it."
    )


def test_a_missing_key_version_fails_with_a_clear_error():
    sealed = crypto.seal(keyring=KEYRING, plaintext=PLAINTEXT, aad=AAD)
    newer = keyring_parse(
        f"{keyring_entry_generate(version=3)},{keyring_entry_generate(version=2)}"
    )

    with pytest.raises(KeyVersionUnknown) as error:
        _open(sealed, keyring=newer)

    assert str(error.value) == (
        f"{LABEL} is sealed with key v1, which the keyring does not hold (NEXIOM_VAULT_KEYS has "
        "v3, v2); put key v1 back into NEXIOM_VAULT_KEYS."
    )


def test_errors_carry_no_plaintext_key_or_ciphertext():
    entry = keyring_entry_generate(version=1)
    sealed = crypto.seal(keyring=keyring_parse(entry), plaintext=PLAINTEXT, aad=AAD)
    errors = []
    for keyring in (KEYRING, keyring_parse(keyring_entry_generate(version=2))):
        with pytest.raises((SecretTampered, KeyVersionUnknown)) as error:
            _open(sealed, keyring=keyring)
        errors.append(error.value)

    for exc in errors:
        text = f"{exc} {exc!r} {exc.__cause__!r} {exc.__context__!r}"
        assert "sk_live_9f8e7d6c5b4a" not in text
        assert entry.split(":")[1] not in text
        assert sealed.ciphertext.hex() not in text
        assert base64.b64encode(sealed.ciphertext).decode() not in text
        assert exc.__cause__ is None
    assert "nonce=" not in repr(sealed) and "ciphertext=" not in repr(sealed)


@pytest.mark.parametrize(
    "data, message",
    [
        (["sk_live_not_a_dict"], "A secret holds a JSON object (a dict of fields), not list."),
        ({"key": b"sk_live_bytes"}, "found a bytes."),
        ({"key": ("sk_live_tuple",)}, "found a tuple."),
        ({"key": float("nan")}, "A secret cannot hold NaN or infinite numbers."),
        ({1: "sk_live_int_key"}, "Secret field names must be strings, found a int."),
        ({"key": "x" * (64 * 1024)}, "A secret holds at most 65536 bytes of JSON"),
    ],
)
def test_invalid_payloads_are_refused_without_echoing_them(data, message):
    with pytest.raises(SecretPayloadInvalid) as error:
        crypto.payload_encode(data)

    assert message in str(error.value)
    assert "sk_live" not in str(error.value)
    assert "xxxxxxxx" not in str(error.value)


def test_associated_data_is_unambiguous():
    first = crypto.associated_data(schema="a", secret_id=SECRET_ID, purpose="b,c")
    second = crypto.associated_data(schema="a,b", secret_id=SECRET_ID, purpose="c")

    assert first != second
    assert first.startswith(b'["nexiom.vault.v1","a",')
