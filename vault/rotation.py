"""Re-seal a tenant's secrets with the newest key: online, in batches, resumable.

Only rows not yet on the newest key are selected, in primary-key order, a
batch at a time with ``SELECT ... FOR UPDATE SKIP LOCKED``; each batch is
re-sealed and committed on its own. So:

- the platform keeps serving: reveals never wait (they take no lock, and a
  row's key version, nonce and ciphertext change together in one commit),
  and a writer waits for one batch at most;
- a row a writer holds is skipped, not waited for; ``secret_replace`` seals
  with the newest key anyway, and a later pass picks up whatever is left;
- stopping half-way loses nothing: the next run starts with what is left;
- a secret that does not open (altered, copied, sealed with another key) does
  not stop the others: it stays as it is, is recorded in the tenant's audit
  of reads as a failed attempt by ``vault_rotate``, and is reported in the
  result; the rest of its batch is re-sealed and committed.

``secrets_check`` opens every secret (batched, no locks, nothing written) to
find the ones that would not open, for ``vault_rotate --check``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from vault import crypto
from vault.audit import failure_text, read_record
from vault.errors import KeyVersionUnknown, SecretTampered
from vault.keyring import Keyring, keyring_get
from vault.models import Secret, SecretRead
from vault.services import (
    aad_for,
    sealed_of,
    secret_label,
    secret_open,
    tenant_schema_require,
)

DEFAULT_BATCH_SIZE = 500
# One parameterised UPDATE per row, pipelined by psycopg's executemany; Django's
# bulk_update builds CASE expressions that cost ~25 times more in Python.
_RESEAL_SQL = (
    'UPDATE "vault_secret" SET "key_version" = %s, "nonce" = %s, "ciphertext" = %s, '
    '"rotated" = %s WHERE "id" = %s'
)


ROTATION_ACTOR = "vault_rotate"


@dataclass(frozen=True)
class RotationFailure:
    """A secret that did not open: left as it is."""

    secret_id: object
    purpose: str
    #: The error's code and message (names the secret, never its content).
    why: str


@dataclass(frozen=True)
class RotationResult:
    resealed: int
    #: Still on an older key: rows a writer held through every pass. Run again.
    remaining: int
    #: Did not open, so not re-sealed; each is in the audit as a failed read.
    failed: tuple[RotationFailure, ...] = ()


def key_versions_count() -> dict[int, int]:
    """How many secrets of the current tenant each key version holds."""
    rows = Secret.objects.order_by().values_list("key_version").annotate(count=Count("pk"))
    return dict(sorted(rows))


def secrets_rotate(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
    passes: int = 5,
    pause_seconds: float = 0.2,
) -> RotationResult:
    """Re-seal every secret of the current tenant that is not on the newest key."""
    schema = tenant_schema_require()
    keyring = keyring_get()
    newest = keyring.newest_version
    resealed = 0
    failed: dict[object, RotationFailure] = {}
    for attempt in range(passes):
        if attempt:
            time.sleep(pause_seconds)  # give the writers holding skipped rows time to commit
        last_pk = None
        while True:
            count, looked_at, last_pk = _batch_rotate(
                keyring=keyring,
                schema=schema,
                after=last_pk,
                batch_size=batch_size,
                failed=failed,
            )
            if not looked_at:
                break
            resealed += count
            if on_batch is not None:
                on_batch(looked_at)
        remaining = Secret.objects.exclude(key_version=newest).exclude(pk__in=failed).count()
        if not remaining:
            break
    return RotationResult(resealed=resealed, remaining=remaining, failed=tuple(failed.values()))


def secrets_check(*, batch_size: int = DEFAULT_BATCH_SIZE) -> list[RotationFailure]:
    """The secrets of the current tenant that do not open with the keyring (nothing written).

    Secrets sealed with a key version the keyring lacks are not tried: the
    key-version counts report those.
    """
    schema = tenant_schema_require()
    keyring = keyring_get()
    failures, last_pk = [], None
    while True:
        batch = Secret.objects.filter(key_version__in=keyring.versions).order_by("pk")
        if last_pk is not None:
            batch = batch.filter(pk__gt=last_pk)
        batch = list(batch.only("id", "purpose", "key_version", "nonce", "ciphertext")[:batch_size])
        if not batch:
            return failures
        for secret in batch:
            try:
                secret_open(secret=secret, schema=schema)
            except (KeyVersionUnknown, SecretTampered) as error:
                failures.append(RotationFailure(secret.pk, secret.purpose, failure_text(error)))
        last_pk = batch[-1].pk


@sensitive_variables("plaintext")
def _batch_rotate(
    *, keyring: Keyring, schema: str, after, batch_size: int, failed: dict
) -> tuple[int, int, object]:
    """Re-seal one batch; returns (rows re-sealed, rows looked at, last pk).

    What does not open is added to ``failed`` (and to the audit, committed at
    once); what is in ``failed`` already is not tried again."""
    newest = keyring.newest_version
    with transaction.atomic():
        candidates = (
            Secret.objects.select_for_update(skip_locked=True)
            .exclude(key_version=newest)
            .exclude(pk__in=list(failed))
            .only("id", "purpose", "key_version", "nonce", "ciphertext")
            .order_by("pk")
        )
        if after is not None:
            candidates = candidates.filter(pk__gt=after)
        batch = list(candidates[:batch_size])
        if not batch:
            return 0, 0, after
        now = timezone.now()
        rows = []
        for secret in batch:
            aad = aad_for(secret=secret, schema=schema)
            try:
                plaintext = crypto.unseal(
                    keyring=keyring,
                    sealed=sealed_of(secret),
                    aad=aad,
                    label=secret_label(secret=secret, schema=schema),
                )
            except (KeyVersionUnknown, SecretTampered) as error:
                failed[secret.pk] = _failure_record(
                    secret=secret, schema=schema, error=error, newest=newest
                )
                continue
            sealed = crypto.seal(keyring=keyring, plaintext=plaintext, aad=aad)
            rows.append((sealed.key_version, sealed.nonce, sealed.ciphertext, now, secret.pk))
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(_RESEAL_SQL, rows)
    return len(rows), len(batch), batch[-1].pk


def _failure_record(*, secret: Secret, schema: str, error, newest: int) -> RotationFailure:
    why = failure_text(error)
    read_record(
        schema=schema,
        secret_id=secret.pk,
        purpose=secret.purpose,
        actor_kind=SecretRead.ActorKind.PROCESS,
        actor_user=None,
        actor_label=ROTATION_ACTOR,
        reason=f"re-seal with key v{newest}",
        failure=why,
    )
    return RotationFailure(secret.pk, secret.purpose, why)
