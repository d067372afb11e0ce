"""What every Desk page shows about connections: the "needs reconnecting" banner.

Registered in ``TEMPLATES``; ``admin/base_site.html`` (this app's override)
renders it. The query runs only when a page draws the banner (lazily), and
only for signed-in staff of a tenant who may see connections: never on the
platform host, whose schema has no connections.
"""

from __future__ import annotations

from typing import Any

from django.db import connection as db_connection
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django_tenants.utils import get_public_schema_name

from connectors.models import Connection, ConnectionStatus

#: At most this many named in the banner (the connections list shows them all).
BANNER_LIMIT = 5


def reauth_banner(request: HttpRequest) -> dict[str, Any]:
    """``connections_needing_reauth``: the tenant's ``needs_reauth`` connections (id, name)."""
    user = getattr(request, "user", None)
    if (
        db_connection.schema_name == get_public_schema_name()
        or user is None
        or not user.is_authenticated
        or not user.is_staff
    ):
        return {}

    def needing_reauth() -> list[dict[str, Any]]:
        if not user.has_perm("connectors.view_connection"):
            return []
        return list(
            Connection.objects.filter(status=ConnectionStatus.NEEDS_REAUTH)
            .order_by("name", "pk")
            .values("pk", "name")[:BANNER_LIMIT]
        )

    return {"connections_needing_reauth": SimpleLazyObject(needing_reauth)}
