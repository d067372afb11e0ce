"""Seal, reveal, replace and delete secrets: the vault's API for the platform.

Every function works in the tenant schema the connection is on; the schema
is part of the associated data, so a secret opens only in its own tenant.
Plaintext goes in as a JSON-able dict and comes out as one, to the caller
only: it is never logged, never put into an exception, and every value
revealed is remembered by ``vault.redaction`` so that logs and Celery task
messages of this process refuse it.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from celery import current_task
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from django_tenants.utils import get_public_schema_name

from vault import crypto
from vault.audit import failure_text, read_record
from vault.errors import (
    KeyVersionUnknown,
    RevealRefused,
    SecretPayloadInvalid,
    SecretTampered,
    TenantRequired,
)
from vault.keyring import keyring_get
from vault.models import Secret, SecretRead
from vault.redaction import revealed_remember

logger = logging.getLogger(__name__)

_PURPOSE_RE = re.compile(r"[a-z0-9][a-z0-9._:-]{0,99}")

Actor = AbstractBaseUser | str | None


def tenant_schema_require() -> str:
    schema = connection.schema_name
    if schema == get_public_schema_name():
        raise TenantRequired(
            "The vault lives in tenant schemas and the connection is on the public schema; "
            "run inside the tenant (tenant_context / schema_context, or a tenant's request/task)."
        )
    return schema


def secret_label(*, secret: Secret, schema: str) -> str:
    """How errors and logs name a secret: id, purpose, schema; never its content."""
    return f"secret {secret.pk} (purpose {secret.purpose}) in schema {schema}"


def aad_for(*, secret: Secret, schema: str) -> bytes:
    return crypto.associated_data(schema=schema, secret_id=secret.pk, purpose=secret.purpose)


def sealed_of(secret: Secret) -> crypto.Sealed:
    return crypto.Sealed(
        key_version=secret.key_version, nonce=secret.nonce, ciphertext=secret.ciphertext
    )


def purpose_validate(purpose: str) -> str:
    if not isinstance(purpose, str) or not _PURPOSE_RE.fullmatch(purpose):
        raise SecretPayloadInvalid(
            "A purpose is 1-100 lowercase letters, digits and . _ : - (e.g. quickbooks.oauth2)."
        )
    return purpose


def _seal_into(secret: Secret, *, plaintext: bytes, schema: str) -> None:
    sealed = crypto.seal(
        keyring=keyring_get(), plaintext=plaintext, aad=aad_for(secret=secret, schema=schema)
    )
    secret.key_version = sealed.key_version
    secret.nonce = sealed.nonce
    secret.ciphertext = sealed.ciphertext


@sensitive_variables("data", "plaintext")
def secret_seal(*, data: dict[str, Any], purpose: str) -> Secret:
    """Encrypt ``data`` with the newest key into a new Secret of the current tenant."""
    schema = tenant_schema_require()
    purpose = purpose_validate(purpose)
    plaintext = crypto.payload_encode(data)
    secret = Secret(id=uuid.uuid4(), purpose=purpose, field_count=len(data))
    _seal_into(secret, plaintext=plaintext, schema=schema)
    secret.save(force_insert=True)
    label = secret_label(secret=secret, schema=schema)
    logger.info("vault: sealed %s with key v%s", label, secret.key_version)
    return secret


@sensitive_variables("data", "plaintext")
def secret_reveal(*, secret: Secret, reason: str, actor: Actor = None) -> dict[str, Any]:
    """Decrypt a secret for ``actor`` (a user, or a task/process name) and audit the read.

    Inside a Celery task the actor defaults to the task's name. A reveal
    without a reason, or outside a task without an actor, is refused (and not
    audited: there is nobody to name). The audit row is committed on the
    vault's own connection before the plaintext is returned, so rolling back
    the caller's transaction does not erase it (``vault.audit``); a secret
    that does not open leaves a ``failed`` row saying why, then raises.
    """
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise RevealRefused(f"Revealing secret {secret.pk} needs a reason (why it is read).")
    kind, user, label = _actor_resolve(actor, secret=secret)
    schema = tenant_schema_require()
    audit = {
        "schema": schema,
        "secret_id": secret.pk,
        "purpose": secret.purpose,
        "actor_kind": kind,
        "actor_user": user,
        "actor_label": label,
        "reason": reason,
    }

    try:
        data = secret_open(secret=secret, schema=schema)
    except (KeyVersionUnknown, SecretTampered) as error:
        read_record(**audit, failure=failure_text(error))
        logger.warning("vault: %s could not be revealed to %s: %s", error.code, label, error)
        raise
    read_record(**audit)
    revealed_remember(data)
    logger.debug("vault: revealed %s to %s", secret_label(secret=secret, schema=schema), label)
    return data


@sensitive_variables("plaintext")
def secret_open(*, secret: Secret, schema: str) -> dict[str, Any]:
    """Decrypt without auditing: for the vault's own use (reveal, rotation checks) only."""
    plaintext = crypto.unseal(
        keyring=keyring_get(),
        sealed=sealed_of(secret),
        aad=aad_for(secret=secret, schema=schema),
        label=secret_label(secret=secret, schema=schema),
    )
    return crypto.payload_decode(plaintext)


def _actor_resolve(actor: Actor, *, secret: Secret) -> tuple[str, Any, str]:
    if isinstance(actor, AbstractBaseUser):
        if not actor.is_authenticated or actor.pk is None:
            raise RevealRefused(f"Revealing secret {secret.pk} needs a signed-in user.")
        return SecretRead.ActorKind.USER, actor, actor.get_username()
    if isinstance(actor, str) and actor.strip():
        return SecretRead.ActorKind.PROCESS, None, actor.strip()
    if actor is None and current_task and current_task.name:
        return SecretRead.ActorKind.TASK, None, current_task.name
    raise RevealRefused(
        f"Revealing secret {secret.pk} needs an actor: pass actor=<user> or a process name, "
        "or reveal inside a Celery task (its name is recorded)."
    )


@sensitive_variables("data", "plaintext")
def secret_replace(*, secret: Secret, data: dict[str, Any]) -> Secret:
    """Seal new data into an existing secret (same id and purpose) with the newest key.

    The row is locked while it is re-sealed, so a concurrent rotation either
    waits for it or skips it and finds it already on the newest key.
    """
    schema = tenant_schema_require()
    plaintext = crypto.payload_encode(data)
    with transaction.atomic():
        locked = Secret.objects.select_for_update().get(pk=secret.pk)
        _seal_into(locked, plaintext=plaintext, schema=schema)
        locked.field_count = len(data)
        locked.replaced = timezone.now()
        locked.save(update_fields=["key_version", "nonce", "ciphertext", "field_count", "replaced"])
    for field in ("key_version", "nonce", "ciphertext", "field_count", "replaced", "rotated"):
        setattr(secret, field, getattr(locked, field))
    logger.info("vault: replaced the data of %s", secret_label(secret=secret, schema=schema))
    return secret


def secret_delete(*, secret: Secret) -> None:
    """Delete a secret; its reads stay in the audit (by id and purpose)."""
    schema = tenant_schema_require()
    label = secret_label(secret=secret, schema=schema)
    secret.delete()
    logger.info("vault: deleted %s", label)
