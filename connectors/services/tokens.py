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
the retries: until someone reconnects, only an explicit "refresh now"
(``force``) asks the provider again. A transient failure records the error and
backs off (1, 2, 4 ... minutes).

A crash between the token call and the commit (process killed, a database
error while sealing) rolls everything back: the old tokens stay sealed and the
next run presents the old refresh token again, which a rotating provider
still honours for a while (QuickBooks: 24 h, Q15).
"""

from __future__ import annotations

import logging
from datetime import datetime

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
from nexiom import metrics

logger = logging.getLogger(__name__)


def connection_refresh(
    *,
    connection: Connection,
    failed_fingerprint: str | None = None,
    force: bool = False,
    claimed_until: datetime | None = None,
    actor=None,
) -> Connection:
    """Refresh the credential if still needed (see the module docstring); returns the fresh row.

    ``failed_fingerprint``: the access credential a client saw refused; when it
    was replaced meanwhile, nothing is called. ``claimed_until``: the health
    sweep's claim on the row (``next_check_at`` it set); when the row still
    carries it, the refresh is due. ``force``: refresh whatever the schedule.
    """
    failure: RemoteError | None = None
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        if locked.status in (ConnectionStatus.DISABLED, ConnectionStatus.PENDING):
            raise ConnectionStateConflict(
                f"Connection {locked.name} is {locked.get_status_display().lower()}; "
                "it has no credential to refresh."
            )
        if locked.status == ConnectionStatus.NEEDS_REAUTH and not force:
            # The provider refused the refresh token already: asking again would
            # fail the same way (and a rotating provider may count it as reuse).
            raise NeedsReauth(locked.last_error or f"Connection {locked.name} needs reconnecting.")
        if not _refresh_needed(
            locked, failed_fingerprint=failed_fingerprint, force=force, claimed_until=claimed_until
        ):
            return locked
        try:
            _renew(locked, actor=actor)
        except RemoteError as error:
            failure = error
            _record_failure(locked, error)
            metrics.token_refresh_observe(connector=locked.connector, outcome="failed")
    if failure is not None:
        raise failure
    return locked


def _refresh_needed(
    locked: Connection,
    *,
    failed_fingerprint: str | None,
    force: bool,
    claimed_until: datetime | None,
) -> bool:
    """Decided on the locked, re-read row: whoever held the lock before may have done it."""
    if failed_fingerprint is not None:
        # Another worker already replaced the credential that failed: use theirs.
        return locked.access_fingerprint == failed_fingerprint
    if force:
        return True
    if claimed_until is not None and locked.next_check_at == claimed_until:
        # Still the sweep's claim: nobody refreshed (or rescheduled) it since.
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
    metrics.token_refresh_observe(connector=locked.connector, outcome="succeeded")


def api_key_session_split(credential: ApiKey, secrets: dict, session: dict | None):
    """(secrets to seal, metadata to show) from a ``pre_authenticate`` answer."""
    session = session or {}
    secret_part = {name: session[name] for name in credential.session_fields if name in session}
    metadata = {k: str(v) for k, v in session.items() if k not in credential.session_fields}
    return {**secrets, **secret_part}, metadata


def connection_failure_record(*, connection: Connection, error: RemoteError) -> Connection:
    """Record a failed call on the connection under its row lock (tests and sweeps use it):
    ``NeedsReauth`` marks it needs_reauth and tells the Admins once; others back off."""
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        _record_failure(locked, error)
    return locked


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
