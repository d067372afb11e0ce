"""Ingest URLs: ``/hooks/<token>`` on the tenant's host, one live token per connection."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from connectors.models import Connection
from pipeline.errors import HookUnknown
from pipeline.models import HookToken
from tenants.services import tenant_current, tenant_url

TOKEN_BYTES = 32


@dataclass(frozen=True)
class IssuedHook:
    url: str
    #: Shown once; only its hash is kept.
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hook_issue(*, connection: Connection) -> IssuedHook:
    """A new ingest URL for the connection; the previous one stops working at once."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        HookToken.objects.filter(connection=connection, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        HookToken.objects.create(connection=connection, token_hash=_hash(token), prefix=token[:8])
    return IssuedHook(url=f"{tenant_url(tenant=tenant_current())}hooks/{token}", token=token)


def hook_resolve(*, token: str) -> Connection:
    """The connection behind a live token of this tenant, or HookUnknown (one answer for all)."""
    if not token or len(token) > 200:
        raise HookUnknown()
    try:  # token_hash is unique: a plain get, no ORDER BY on the gateway's hot path
        hook = HookToken.objects.select_related("connection").get(
            token_hash=_hash(token), revoked_at__isnull=True
        )
    except HookToken.DoesNotExist:
        raise HookUnknown() from None
    return hook.connection
