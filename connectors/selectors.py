"""Shared reads of connections."""

from __future__ import annotations

from django.db.models import QuerySet

from connectors.errors import ConnectionNotFound
from connectors.models import Connection, ConnectionStatus


def connections_list() -> QuerySet[Connection]:
    return Connection.objects.select_related("created_by").order_by("name", "pk")


def connection_get_for_user(*, user, pk: object) -> Connection:
    """Every member of the tenant sees its connections; anything else is "not found"."""
    try:
        key = int(str(pk))
    except ValueError:
        raise ConnectionNotFound() from None
    connection = connections_list().filter(pk=key).first()
    if connection is None:
        raise ConnectionNotFound()
    return connection


def connections_needing_reauth() -> QuerySet[Connection]:
    return Connection.objects.filter(status=ConnectionStatus.NEEDS_REAUTH).order_by("name")
