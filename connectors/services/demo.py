"""The demo tenant's connections to the local sandboxes (``make up``)."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from connectors.models import Connection
from connectors.registry import connector_get
from connectors.sdk.connector import LOCAL
from connectors.sdk.credentials import ApiKey
from connectors.services.connections import connection_create
from tenants.selectors import tenant_get_by_slug

#: What the local sandboxes seed (connectors/*/sandbox); dev values, not secrets.
DEMO_API_KEYS = {
    "revenova": {
        "username": "integration@demo-freight.example",
        "password": "dev-password-revenova",
        "security_token": "devSecurityToken123",
        "org_id": "00D5e000000KqTzEAK",
    }
}


def demo_connection_ensure(*, connector_key: str, tenant_slug: str) -> Connection:
    """The tenant's connection to the connector's local sandbox; created once."""
    connector = connector_get(key=connector_key)
    name = f"{connector.name} (local sandbox)"
    with tenant_context(tenant_get_by_slug(slug=tenant_slug)):
        existing = Connection.objects.filter(name=name).first()
        if existing is not None:
            return existing
        api_key = (
            DEMO_API_KEYS.get(connector_key) if isinstance(connector.credential, ApiKey) else None
        )
        return connection_create(
            connector=connector_key, name=name, environment=LOCAL, api_key=api_key
        )
