"""The audit of reveals, committed on its own connection before any plaintext leaves.

``secret_reveal`` runs inside whatever transaction its caller has open. Were
the audit row written there, a caller that used the secret and then rolled
back would erase the trace. So it is written on the ``vault_audit`` database
alias (``settings.DATABASES``): the same database, a separate connection in
autocommit, switched to the caller's tenant schema for each write. The row is
committed when ``read_record`` returns; if it cannot be written, the reveal
fails and no plaintext is returned.

Failed attempts (a secret that does not open: altered, copied to another row
or tenant, or sealed with a key the keyring lacks) are recorded the same way,
with the outcome ``failed`` and why.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import connections
from django.utils.connection import ConnectionDoesNotExist

from vault.errors import VaultMisconfigured
from vault.models import SecretRead

AUDIT_DATABASE = "vault_audit"
_REASON_MAX = SecretRead._meta.get_field("reason").max_length
_LABEL_MAX = SecretRead._meta.get_field("actor_label").max_length


def read_record(
    *,
    schema: str,
    secret_id: uuid.UUID,
    purpose: str,
    actor_kind: str,
    actor_user: AbstractBaseUser | None,
    actor_label: str,
    reason: str,
    failure: str = "",
) -> SecretRead:
    """Commit one audit row in ``schema``, whatever transaction the caller is in."""
    try:
        audit = connections[AUDIT_DATABASE]
    except ConnectionDoesNotExist:
        raise VaultMisconfigured(
            f"settings.DATABASES has no {AUDIT_DATABASE!r} alias; the vault writes its audit "
            "there (a second connection to the same database, see nexiom/settings.py)."
        ) from None
    if any(not getattr(block, "_from_testcase", False) for block in audit.atomic_blocks):
        # Inside a transaction on this alias the row could still be rolled back.
        # (A Django TestCase wraps every alias in one; tests read it there.)
        raise VaultMisconfigured(
            f"The {AUDIT_DATABASE!r} connection is inside a transaction; nothing may open one "
            "on it, so that every audit row commits at once."
        )
    audit.set_schema(schema)
    return SecretRead.objects.using(AUDIT_DATABASE).create(
        secret_id=secret_id,
        secret_ref=secret_id,
        purpose=purpose,
        actor_kind=actor_kind,
        actor_user_id=actor_user.pk if actor_user is not None else None,
        actor_label=actor_label[:_LABEL_MAX],
        reason=reason[:_REASON_MAX],
        outcome=SecretRead.Outcome.FAILED if failure else SecretRead.Outcome.REVEALED,
        failure=failure,
    )


def failure_text(error: Exception) -> str:
    """How an audit row says why an attempt failed: the error's code and message."""
    code = getattr(error, "code", type(error).__name__)
    return f"{code}: {error}"
