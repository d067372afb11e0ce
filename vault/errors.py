"""What the vault raises: domain errors (``nexiom.errors``) with a stable code and status.

Messages name the secret (id, purpose, key version, schema) so that an
operator can act on them, and never carry plaintext, key bytes or ciphertext.

Statuses: a secret that does not open (altered, copied, or its key gone) is
a conflict between the stored row and the keyring, not a server bug, so 409;
a keyring that is missing or malformed makes the vault unavailable, 503.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from nexiom.errors import DomainError


class VaultError(DomainError):
    """Base class of every vault error."""

    code = "vault_error"
    status = 400


class VaultMisconfigured(VaultError, ImproperlyConfigured):
    """The keyring is missing or malformed; start-up stops on it."""

    code = "vault_misconfigured"
    status = 503


class KeyVersionUnknown(VaultError):
    """A secret was sealed with a key version that the keyring does not hold."""

    code = "key_version_unknown"
    status = 409


class SecretTampered(VaultError):
    """Authentication failed: altered bytes, a copied ciphertext, or the wrong key."""

    code = "secret_tampered"
    status = 409


class SecretPayloadInvalid(VaultError, ValueError):
    """The data to seal is not a JSON object, or is too large."""

    code = "secret_payload_invalid"
    status = 400


class RevealRefused(VaultError):
    """A reveal without a reason or without someone (or some task) to answer for it."""

    code = "reveal_refused"
    status = 403


class TenantRequired(VaultError):
    """The vault lives in tenant schemas; the connection is on the public schema."""

    code = "tenant_required"
    status = 400


class PlaintextInTaskMessage(VaultError):
    """A Celery task was about to be sent with a revealed secret anywhere in its message."""

    code = "plaintext_in_task_message"
    status = 400
