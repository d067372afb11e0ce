"""Refreshing a connection's credential: one refresh at a time, committed before it is used.

``connection_refresh`` takes the connection's row lock (``SELECT ... FOR
UPDATE``), re-reads it, and only then decides: when the credential that
failed (its fingerprint) was already replaced by another worker, or the
token is not due yet, it returns without calling the provider. Otherwise it
calls the token endpoint (or re-runs the API-key login) and seals the new
secrets in the same transaction, so a rotated refresh token is committed
before anyone uses the new access token. Whatever the outcome, the row lock
makes every other worker and process wait and then see the result.

A refusal the provider means (``invalid_grant``) marks the connection
``needs_reauth``, emails the tenant's Admins once (after commit) and stops
the retries; a transient failure records the error and backs off.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from connectors.errors import ConnectionStateConflict, NeedsReauth, RemoteError
from connectors.models import Connection, ConnectionStatus
from connectors.registry import connector_get
from connectors.sdk.client import pooled_session
from connectors.sdk.credentials import ApiKey, OAuth2
from connectors.services.credentials import credentials_reveal, credentials_store
from connectors.services.notifications import reauth_notify_admins
from connectors.services.schedule import backoff_after, next_check_for

logger = logging.getLogger(__name__)


def connection_refresh(
    *,
    connection: Connection,
    failed_fingerprint: str | None = None,
    force: bool = False,
    actor=None,
) -> Connection:
    """Refresh the credential if still needed (see the module docstring); returns the fresh row."""
    failure: RemoteError | None = None
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        if locked.status in (ConnectionStatus.DISABLED, ConnectionStatus.PENDING):
            raise ConnectionStateConflict(
                f"Connection {locked.name} is {locked.get_status_display().lower()}; "
                "it has no credential to refresh."
            )
        if not _refresh_needed(locked, failed_fingerprint=failed_fingerprint, force=force):
            return locked
        try:
            _renew(locked, actor=actor)
        except RemoteError as error:
            failure = error
            _record_failure(locked, error)
    if failure is not None:
        raise failure
    return locked


def _refresh_needed(locked: Connection, *, failed_fingerprint: str | None, force: bool) -> bool:
    if failed_fingerprint is not None:
        # Another worker already replaced the credential that failed: use theirs.
        return locked.access_fingerprint == failed_fingerprint
    if force or locked.status == ConnectionStatus.NEEDS_REAUTH:
        return True
    return locked.next_check_at is None or locked.next_check_at <= timezone.now()


def _renew(locked: Connection, *, actor=None) -> None:
    connector = connector_get(key=locked.connector)
    credential = connector.credential
    urls = connector.urls(locked.environment, locked.metadata)
    secrets = credentials_reveal(
        connection=locked, reason="refresh the access credential", actor=actor
    )
    now = timezone.now()
    if isinstance(credential, OAuth2):
        token = credential.refresh(
            http=pooled_session(),
            urls=urls,
            app=connector.app_credentials(locked.environment),
            secrets=secrets,
        )
        renewed = credential.secrets_from_token(token, previous=secrets)
        locked.access_expires_at = credential.expires_at(token, now=now)
        locked.metadata = {**locked.metadata, **credential.metadata_from(callback={}, token=token)}
    elif isinstance(credential, ApiKey):
        session = credential.pre_authenticate(http=pooled_session(), urls=urls, secrets=secrets)
        renewed, metadata = api_key_session_split(credential, secrets, session)
        locked.metadata = {**locked.metadata, **metadata}
        locked.access_expires_at = None
    else:  # pragma: no cover - every credential type derives from one of the two
        raise TypeError(f"unsupported credential type {type(credential).__name__}")
    credentials_store(connection=locked, secrets=renewed)
    locked.status = ConnectionStatus.CONNECTED
    locked.refreshed_at = now
    locked.last_error = ""
    locked.failure_count = 0
    locked.reauth_notified_at = None
    locked.next_check_at = next_check_for(connection=locked, credential=credential, now=now)
    locked.save()
    logger.info("connection %s (%s) refreshed", locked.pk, locked.connector)


def api_key_session_split(credential: ApiKey, secrets: dict, session: dict | None):
    """(secrets to seal, metadata to show) from a ``pre_authenticate`` answer."""
    session = session or {}
    secret_part = {name: session[name] for name in credential.session_fields if name in session}
    metadata = {k: str(v) for k, v in session.items() if k not in credential.session_fields}
    return {**secrets, **secret_part}, metadata


def _record_failure(locked: Connection, error: RemoteError) -> None:
    now = timezone.now()
    locked.last_error = error.message[:2000]
    locked.last_checked_at = now
    if isinstance(error, NeedsReauth):
        locked.status = ConnectionStatus.NEEDS_REAUTH
        locked.next_check_at = None  # retrying stops until someone reconnects
        if locked.reauth_notified_at is None:
            locked.reauth_notified_at = now
            transaction.on_commit(lambda: reauth_notify_admins(connection_id=locked.pk))
    else:
        locked.failure_count += 1
        locked.status = ConnectionStatus.ERROR if not error.retryable else locked.status
        locked.next_check_at = backoff_after(failures=locked.failure_count, now=now)
    locked.save()
    logger.warning("connection %s (%s) refresh failed: %s", locked.pk, locked.connector, error.code)
