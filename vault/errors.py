"""What the vault raises.

Messages name the secret (id, purpose, key version, schema) so that an
operator can act on them, and never carry plaintext, key bytes or ciphertext.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class VaultError(Exception):
    """Base class of every vault error."""


class VaultMisconfigured(VaultError, ImproperlyConfigured):
    """The keyring is missing or malformed; start-up stops on it."""


class KeyVersionUnknown(VaultError):
    """A secret was sealed with a key version that the keyring does not hold."""


class SecretTampered(VaultError):
    """Authentication failed: altered bytes, a copied ciphertext, or the wrong key."""


class SecretPayloadInvalid(VaultError, ValueError):
    """The data to seal is not a JSON object, or is too large."""


class RevealRefused(VaultError):
    """A reveal without a reason or without someone (or some task) to answer for it."""


class TenantRequired(VaultError):
    """The vault lives in tenant schemas; the connection is on the public schema."""


class PlaintextInTaskMessage(VaultError):
    """A Celery task was about to be sent with a revealed secret among its arguments."""
