"""Ingest URLs: ``/hooks/<token>`` on the tenant's host, one live token per connection."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import connection as db_connection
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
    connection = _live_connection(_hash(token))
    if connection is None:
        raise HookUnknown()
    return connection


#: What the gateway reads of the connection (sender check, signing secrets, history);
#: any other field loads on first access, as with ``QuerySet.only``.
GATEWAY_FIELDS = ("id", "connector", "status", "metadata", "credentials_id")


def _live_connection(token_hash: str) -> Connection | None:
    """One hand-written SELECT: this runs for every message a sender posts, and building
    the same query through the ORM costs six times its round trip in Python."""
    hook_meta, meta = HookToken._meta, Connection._meta
    quote = db_connection.ops.quote_name
    columns = ", ".join(f"c.{quote(meta.get_field(name).column)}" for name in GATEWAY_FIELDS)
    sql = (
        f"SELECT {columns} FROM {quote(hook_meta.db_table)} h "  # noqa: S608 - names from _meta
        f"JOIN {quote(meta.db_table)} c ON c.{quote(meta.pk.column)} = "
        f"h.{quote(hook_meta.get_field('connection').column)} "
        f"WHERE h.{quote(hook_meta.get_field('token_hash').column)} = %s "
        f"AND h.{quote(hook_meta.get_field('revoked_at').column)} IS NULL"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    values = [
        field.from_db_value(value, None, db_connection)
        if hasattr(field, "from_db_value")
        else value
        for field, value in zip((meta.get_field(name) for name in GATEWAY_FIELDS), row, strict=True)
    ]
    return Connection.from_db(db_connection.alias, list(GATEWAY_FIELDS), values)
