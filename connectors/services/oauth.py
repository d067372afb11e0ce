"""The OAuth2 authorization-code flow: start on the tenant host, finish at the central callback.

``state`` is a signed (``django.core.signing``), ten-minute value naming the
tenant schema, the connection, the user who started it, the provider and a
random nonce. The nonce is also stored in the tenant's ``Authorization``
table with the PKCE verifier; the callback claims that row with a
conditional UPDATE, so each state works once. A forged, expired, replayed
or other-provider state is refused before anything is stored.
"""

from __future__ import annotations

import logging
import secrets as random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from connectors.errors import (
    AuthorizationStateInvalid,
    ConnectionStateConflict,
    RemoteError,
)
from connectors.models import Authorization, Connection, ConnectionStatus
from connectors.registry import connector_get
from connectors.sdk.client import pooled_session
from connectors.sdk.credentials import OAuth2
from connectors.services.credentials import credentials_store
from connectors.services.schedule import next_check_for
from tenants.models import Tenant
from tenants.services import tenant_current, tenant_url

logger = logging.getLogger(__name__)

STATE_SALT = "connectors.oauth.state"
STATE_MAX_AGE = timedelta(minutes=10)
CALLBACK_PATH = "/api/callback/{provider}"


@dataclass(frozen=True)
class CallbackOutcome:
    """Where the browser goes after the callback, and whether it connected."""

    redirect_url: str
    connected: bool


def oauth_redirect_uri(*, provider: str) -> str:
    """The central callback on the public host, as registered at each provider."""
    scheme, host, port = (
        settings.NEXIOM_PUBLIC_SCHEME,
        settings.NEXIOM_BASE_DOMAIN,
        settings.NEXIOM_PUBLIC_PORT,
    )
    default_port = {"http": 80, "https": 443}.get(scheme)
    netloc = host if port == default_port else f"{host}:{port}"
    return f"{scheme}://{netloc}{CALLBACK_PATH.format(provider=provider)}"


def desk_url(*, tenant: Tenant, connection_id: int, outcome: str) -> str:
    return (
        f"{tenant_url(tenant=tenant)}admin/connectors/connection/{connection_id}/change/"
        f"?oauth={outcome}"
    )


def authorization_start(*, connection: Connection, user) -> str:
    """The provider's authorize URL for this connection (the user's browser goes there)."""
    connector = connector_get(key=connection.connector)
    credential = connector.credential
    if not isinstance(credential, OAuth2):
        raise ConnectionStateConflict(
            f"{connector.name} connects with an API key, not through an authorization page."
        )
    if connection.status == ConnectionStatus.DISABLED:
        raise ConnectionStateConflict(f"Connection {connection.name} is disabled.")
    app = connector.app_credentials(connection.environment)
    redirect_uri = oauth_redirect_uri(provider=connector.key)
    pair = credential.pkce_pair()
    nonce = random.token_urlsafe(32)
    Authorization.objects.create(
        connection=connection,
        nonce=nonce,
        code_verifier=pair[0] if pair else "",
        redirect_uri=redirect_uri,
        started_by=user if getattr(user, "pk", None) else None,
    )
    state = signing.dumps(
        {
            "t": tenant_current().schema_name,
            "c": connection.pk,
            "u": getattr(user, "pk", None),
            "p": connector.key,
            "n": nonce,
        },
        salt=STATE_SALT,
        compress=True,
    )
    return credential.authorize_url(
        urls=connector.urls(connection.environment, connection.metadata),
        app=app,
        redirect_uri=redirect_uri,
        state=state,
        code_challenge=pair[1] if pair else None,
    )


def _state_read(*, provider: str, state: str) -> dict:
    try:
        payload = signing.loads(state or "", salt=STATE_SALT, max_age=STATE_MAX_AGE.total_seconds())
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        raise AuthorizationStateInvalid() from None
    if not isinstance(payload, dict) or payload.get("p") != provider:
        raise AuthorizationStateInvalid()
    return payload


def oauth_callback_complete(*, provider: str, query: Mapping[str, str]) -> CallbackOutcome:
    """Finish an authorization at the central callback (public host); see the module docstring."""
    payload = _state_read(provider=provider, state=query.get("state", ""))
    tenant = Tenant.objects.filter(
        schema_name=payload.get("t"), status=Tenant.Status.ACTIVE
    ).first()
    if tenant is None or tenant.schema_name == "public":
        raise AuthorizationStateInvalid()
    with tenant_context(tenant):
        authorization = _authorization_claim(payload)
        connection = authorization.connection
        if query.get("error"):
            described = query.get("error_description", "")
            reason = query["error"] + (f" ({described})" if described else "")
            _callback_failed(connection, f"The provider did not authorize it: {reason}"[:500])
            return CallbackOutcome(
                desk_url(tenant=tenant, connection_id=connection.pk, outcome="refused"), False
            )
        try:
            _connect(connection, authorization=authorization, query=query)
        except RemoteError as error:
            _callback_failed(connection, error.message)
            return CallbackOutcome(
                desk_url(tenant=tenant, connection_id=connection.pk, outcome="failed"), False
            )
        return CallbackOutcome(
            desk_url(tenant=tenant, connection_id=connection.pk, outcome="connected"), True
        )


def _authorization_claim(payload: dict) -> Authorization:
    now = timezone.now()
    claimed = Authorization.objects.filter(
        nonce=payload.get("n", ""),
        connection_id=payload.get("c"),
        used_at__isnull=True,
        created__gt=now - STATE_MAX_AGE,
    ).update(used_at=now)
    if not claimed:
        raise AuthorizationStateInvalid()
    return Authorization.objects.select_related("connection").get(nonce=payload["n"])


def _connect(connection: Connection, *, authorization: Authorization, query: Mapping[str, str]):
    code = query.get("code", "")
    if not code:
        raise AuthorizationStateInvalid("The provider sent no authorization code.")
    connector = connector_get(key=connection.connector)
    credential = connector.credential
    token = credential.exchange_code(
        http=pooled_session(),
        urls=connector.urls(connection.environment, connection.metadata),
        app=connector.app_credentials(connection.environment),
        code=code,
        redirect_uri=authorization.redirect_uri,
        code_verifier=authorization.code_verifier or None,
    )
    now = timezone.now()
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        credentials_store(
            connection=locked, secrets=credential.secrets_from_token(token, previous=None)
        )
        locked.metadata = {
            **locked.metadata,
            **credential.metadata_from(callback=query, token=token),
        }
        locked.access_expires_at = credential.expires_at(token, now=now)
        locked.status = ConnectionStatus.CONNECTED
        locked.refreshed_at = now
        locked.last_checked_at = now
        locked.last_error = ""
        locked.failure_count = 0
        locked.reauth_notified_at = None
        locked.next_check_at = next_check_for(connection=locked, credential=credential, now=now)
        locked.save()
    logger.info("connection %s (%s) connected", connection.pk, connection.connector)


def _callback_failed(connection: Connection, message: str) -> None:
    Connection.objects.filter(pk=connection.pk).update(
        last_error=message, last_checked_at=timezone.now()
    )
    logger.warning("connection %s authorization failed: %s", connection.pk, message)


def authorizations_prune(*, older_than: timedelta = STATE_MAX_AGE * 6) -> int:
    """Delete authorization rows long past their ten minutes (a beat job calls it)."""
    deleted, _ = Authorization.objects.filter(created__lt=timezone.now() - older_than).delete()
    return deleted
