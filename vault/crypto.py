"""AES-256-GCM seal and open, with the secret's identity bound in as associated data.

Every seal draws a fresh random 96-bit nonce. The associated data is the
tenant schema, the secret id and its purpose, so a ciphertext copied to
another row, another purpose or another tenant fails authentication instead
of opening somewhere it was not sealed. GCM's 128-bit tag covers ciphertext,
nonce and associated data: any altered byte fails the same way.

No envelope encryption (per-tenant data keys wrapped by the keyring), on
purpose. Its gains are cheap master-key rotation (re-wrap one key per tenant)
and crypto-shredding a tenant by deleting its key. Here rotation must re-seal
every secret anyway, so that an old key can really be dropped, and a
tenant's secrets go with its schema; tenant binding already comes from the
associated data. A data-key table would add a second decryption per reveal,
a cache of unwrapped keys in memory and one more thing to rotate, for no gain
at our sizes (secrets are a few hundred bytes, rotation of 10,000 takes
seconds; see ``make bench``).

Random 96-bit nonces are safe up to about 2**32 seals per key (NIST SP
800-38D); keys are rotated long before that.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from django.views.decorators.debug import sensitive_variables

from vault.errors import KeyVersionUnknown, SecretPayloadInvalid, SecretTampered
from vault.keyring import Keyring

NONCE_BYTES = 12
MAX_PLAINTEXT_BYTES = 64 * 1024
#: Changes only with the format of the associated data; old secrets keep theirs.
AAD_LABEL = "nexiom.vault.v1"


@dataclass(frozen=True)
class Sealed:
    """What is stored: key version, nonce, ciphertext with its GCM tag."""

    key_version: int
    nonce: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)


def associated_data(*, schema: str, secret_id: uuid.UUID, purpose: str) -> bytes:
    """The identity a ciphertext is bound to; JSON so that no two identities share bytes."""
    return json.dumps([AAD_LABEL, schema, str(secret_id), purpose], separators=(",", ":")).encode()


@sensitive_variables()
def seal(*, keyring: Keyring, plaintext: bytes, aad: bytes) -> Sealed:
    version = keyring.newest_version
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = keyring.cipher(version).encrypt(nonce, plaintext, aad)
    return Sealed(key_version=version, nonce=nonce, ciphertext=ciphertext)


@sensitive_variables()
def unseal(*, keyring: Keyring, sealed: Sealed, aad: bytes, label: str) -> bytes:
    """Open a sealed value; ``label`` names it in errors ("secret <id> (purpose p) in ...")."""
    version = sealed.key_version
    if version not in keyring:
        held = ", ".join(f"v{v}" for v in keyring.versions)
        raise KeyVersionUnknown(
            f"{label} is sealed with key v{version}, which the keyring does not hold "
            f"(NEXIOM_VAULT_KEYS has {held}); put key v{version} back into NEXIOM_VAULT_KEYS."
        )
    nonce = bytes(sealed.nonce)
    try:
        if len(nonce) != NONCE_BYTES:
            raise InvalidTag
        return keyring.cipher(version).decrypt(nonce, bytes(sealed.ciphertext), aad)
    except InvalidTag:
        raise SecretTampered(
            f"{label} does not open with key v{version}: its ciphertext, nonce or identity "
            "(schema, id, purpose) was altered or copied from another row or tenant, or key "
            f"v{version} in NEXIOM_VAULT_KEYS is not the key that sealed it."
        ) from None


@sensitive_variables()
def payload_encode(data: Any) -> bytes:
    """A JSON object as bytes; errors name types, never values."""
    if not isinstance(data, dict):
        raise SecretPayloadInvalid(
            f"A secret holds a JSON object (a dict of fields), not {type(data).__name__}."
        )
    _check_jsonable(data)
    encoded = json.dumps(data, separators=(",", ":")).encode()
    if len(encoded) > MAX_PLAINTEXT_BYTES:
        raise SecretPayloadInvalid(
            f"A secret holds at most {MAX_PLAINTEXT_BYTES} bytes of JSON; this one has "
            f"{len(encoded)}."
        )
    return encoded


@sensitive_variables()
def payload_decode(plaintext: bytes) -> dict:
    return json.loads(plaintext)


def _check_jsonable(value: Any) -> None:
    # Iterative, so that deep nesting cannot exhaust the stack.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise SecretPayloadInvalid(
                        f"Secret field names must be strings, found a {type(key).__name__}."
                    )
                pending.append(child)
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise SecretPayloadInvalid("A secret cannot hold NaN or infinite numbers.")
        elif item is not None and not isinstance(item, str | int | bool):
            raise SecretPayloadInvalid(
                "A secret holds strings, numbers, booleans, null, lists and objects; found a "
                f"{type(item).__name__}."
            )
