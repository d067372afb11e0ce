"""The engine's side of credentials: reveal, seal, fingerprint, build an authenticated client.

Only this module (and the services that call it) touch the vault; connector
code receives a ``Client`` with the credential already applied.
"""

from __future__ import annotations

import hashlib
from typing import Any

from celery import current_task

from connectors.models import Connection
from connectors.registry import connector_get
from connectors.sdk.client import Client, pooled_session
from connectors.sdk.connector import Connector
from vault.models import Secret
from vault.services import secret_replace, secret_reveal, secret_seal

PURPOSE_PREFIX = "connectors"


def fingerprint(value: str) -> str:
    """A short, one-way label of a token: enough to tell two apart, useless to an attacker."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def access_value(secrets: dict[str, Any]) -> str:
    return str(secrets.get("access_token") or secrets.get("session_id") or "")


#: Who the audit names when no user acts and no Celery task runs (commands, shells).
ENGINE_ACTOR = "connectors engine"


def credentials_reveal(*, connection: Connection, reason: str, actor=None) -> dict[str, Any]:
    """The connection's secrets, audited as read by ``actor`` (a user), the running Celery
    task, or the engine itself."""
    if connection.credentials_id is None:
        return {}
    if actor is None and not (current_task and current_task.name):
        actor = ENGINE_ACTOR
    # Read the sealed row afresh: a Connection held in memory may carry the ciphertext
    # of before another worker's refresh.
    secret = Secret.objects.get(pk=connection.credentials_id)
    return secret_reveal(secret=secret, reason=reason, actor=actor)


def credentials_store(*, connection: Connection, secrets: dict[str, Any]) -> None:
    """Seal (or re-seal) the connection's secrets; the caller saves the connection."""
    if connection.credentials is None:
        connection.credentials = secret_seal(
            data=secrets, purpose=f"{PURPOSE_PREFIX}.{connection.connector}"
        )
    else:
        secret_replace(secret=connection.credentials, data=secrets)
    connection.access_fingerprint = (
        fingerprint(access_value(secrets)) if access_value(secrets) else ""
    )


def client_build(
    *,
    connector: Connector,
    connection: Connection,
    secrets: dict[str, Any],
    reauthenticate,
    throttle=None,
) -> Client:
    session = pooled_session()
    if secrets:
        connector.credential.authenticate(session, secrets)
    urls = connector.urls(connection.environment, connection.metadata)
    return connector.client_class(
        base_url=urls.get("api", ""),
        session=session,
        is_expired=connector.credential.is_expired,
        reauthenticate=reauthenticate,
        provider=connector.name,
        metadata=connection.metadata,
        throttle=throttle,
    )


def connection_client(
    *, connection: Connection, reason: str = "call the provider", actor=None, throttle=None
) -> Client:
    """An authenticated client for the connection: refreshes once when the provider says expired.

    The refresh is single-flight (``connection_refresh`` with the failing
    credential's fingerprint): when another worker already replaced it, this
    one just picks up the new credential.
    """
    from connectors.services.tokens import connection_refresh

    connector = connector_get(key=connection.connector)
    secrets = credentials_reveal(connection=connection, reason=reason, actor=actor)
    # The fingerprint of what this client really sends, not of a possibly stale row.
    state = {"fingerprint": fingerprint(access_value(secrets)) if secrets else ""}

    def reauthenticate(session) -> None:
        fresh = connection_refresh(
            connection=connection, failed_fingerprint=state["fingerprint"], actor=actor
        )
        renewed = credentials_reveal(connection=fresh, reason="retry after a refresh", actor=actor)
        connector.credential.authenticate(session, renewed)
        state["fingerprint"] = fresh.access_fingerprint

    return client_build(
        connector=connector,
        connection=connection,
        secrets=secrets,
        reauthenticate=reauthenticate,
        throttle=throttle,
    )
