"""Create, test, disable and delete connections."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from connectors.errors import ConnectionInvalid, ConnectionStateConflict, RemoteError
from connectors.models import Connection, ConnectionStatus
from connectors.registry import connector_get
from connectors.sdk.client import pooled_session
from connectors.sdk.connector import LOCAL
from connectors.sdk.credentials import ApiKey, OAuth2
from connectors.services.credentials import (
    connection_client,
    credentials_reveal,
    credentials_store,
)
from connectors.services.schedule import next_check_for
from connectors.services.tokens import (
    api_key_session_split,
    connection_failure_record,
    connection_refresh,
)
from vault.services import secret_delete

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TestResult:
    ok: bool
    detail: dict[str, Any]
    error: str = ""


def connection_create(
    *,
    connector: str,
    name: str,
    environment: str = LOCAL,
    api_key: dict[str, Any] | None = None,
    created_by=None,
) -> Connection:
    """A new connection: OAuth2 ones wait for authorization; API-key ones log in at once.

    An API key that does not log in is refused and nothing is stored.
    """
    spec = connector_get(key=connector)
    spec.environment(environment)  # refuses an unknown environment with the choices
    name = (name or "").strip()
    if not name:
        raise ConnectionInvalid("Give the connection a name.", fields={"name": ["Required."]})
    credential = spec.credential
    if isinstance(credential, ApiKey):
        problems = credential.validate(api_key or {})
        if problems:
            raise ConnectionInvalid("Some credential fields are missing or wrong.", fields=problems)
    elif api_key:
        raise ConnectionInvalid(
            f"{spec.name} connects through its authorization page, not with typed-in keys.",
            fields={"api_key": ["Not used by this connector."]},
        )
    connection = Connection(
        connector=spec.key, name=name[:100], environment=environment, created_by=created_by
    )
    if isinstance(credential, ApiKey):
        # Log in first: a key that doesn't work is refused before anything is stored.
        key_material = {k: v.strip() if isinstance(v, str) else v for k, v in api_key.items()}
        session = credential.pre_authenticate(
            http=pooled_session(), urls=spec.urls(environment, {}), secrets=key_material
        )
        secrets, metadata = api_key_session_split(credential, key_material, session)
        connection.metadata = metadata
        connection.status = ConnectionStatus.CONNECTED
        connection.refreshed_at = connection.last_checked_at = timezone.now()
    try:
        with transaction.atomic():
            if isinstance(credential, ApiKey):
                credentials_store(connection=connection, secrets=secrets)
            connection.save()
            if connection.status == ConnectionStatus.CONNECTED:
                connection.next_check_at = next_check_for(
                    connection=connection, credential=credential
                )
                connection.save(update_fields=["next_check_at"])
    except IntegrityError as exc:
        raise ConnectionInvalid(
            f"A connection named {name!r} exists already.", fields={"name": ["Already used."]}
        ) from exc
    logger.info("connection %s (%s) created", connection.pk, connection.connector)
    return connection


def connection_test(*, connection: Connection, actor=None) -> TestResult:
    """One cheap authenticated call; records the outcome on the connection."""
    if connection.status in (ConnectionStatus.PENDING, ConnectionStatus.DISABLED):
        raise ConnectionStateConflict(
            f"Connection {connection.name} is {connection.get_status_display().lower()}; "
            "connect it first."
        )
    connector = connector_get(key=connection.connector)
    now = timezone.now()
    try:
        client = connection_client(connection=connection, reason="test the connection", actor=actor)
        detail = connector.test(client)
    except RemoteError as error:
        fresh = connection_failure_record(connection=connection, error=error)
        connection.refresh_from_db()
        return TestResult(ok=False, detail={}, error=fresh.last_error or error.message)
    connection.refresh_from_db()
    updates = {"last_checked_at": now, "last_error": "", "failure_count": 0}
    if connection.status == ConnectionStatus.ERROR:
        updates["status"] = ConnectionStatus.CONNECTED
    if not isinstance(connector.credential, OAuth2) or connection.access_expires_at is None:
        updates["next_check_at"] = next_check_for(
            connection=connection, credential=connector.credential, now=now
        )
    Connection.objects.filter(pk=connection.pk).update(**updates)
    connection.refresh_from_db()
    return TestResult(ok=True, detail=detail)


def connection_refresh_now(*, connection: Connection, actor=None) -> Connection:
    """The Desk's and API's "refresh now": refresh even when not due."""
    return connection_refresh(connection=connection, force=True, actor=actor)


def connection_disable(*, connection: Connection) -> Connection:
    """Stop using the connection (no refresh, no sync); its credentials stay until deleted."""
    Connection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatus.DISABLED, next_check_at=None
    )
    connection.refresh_from_db()
    return connection


def connection_delete(*, connection: Connection, actor=None) -> bool:
    """Delete the row and its secret, then revoke at the provider (OAuth2).

    A connection that routes or received messages refer to is refused (409)
    before anything is revoked: disable it instead. Returns whether the
    provider confirmed the revocation; a provider that cannot be reached does
    not keep a tenant from deleting its connection.
    """
    connector = connector_get(key=connection.connector)
    secrets = credentials_reveal(
        connection=connection, reason="revoke before deleting", actor=actor
    )
    with transaction.atomic():
        secret = connection.credentials
        try:
            with transaction.atomic():
                connection.delete()
        except ProtectedError as error:
            users = sorted({str(obj._meta.verbose_name_plural) for obj in error.protected_objects})
            raise ConnectionStateConflict(
                f"Connection {connection.name} is still used ({', '.join(users)}); "
                "disable it instead, or delete what uses it first."
            ) from None
        if secret is not None:
            secret_delete(secret=secret)
    revoked = False
    if isinstance(connector.credential, OAuth2) and secrets:
        try:
            connector.credential.revoke(
                http=pooled_session(),
                urls=connector.urls(connection.environment, connection.metadata),
                app=connector.app_credentials(connection.environment),
                secrets=secrets,
            )
            revoked = True
        except RemoteError as error:
            logger.warning("connection %s: revoking failed: %s", connection.pk, error.code)
    logger.info(
        "connection %s (%s) deleted, revoked=%s", connection.pk, connection.connector, revoked
    )
    return revoked
