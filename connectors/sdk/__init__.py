"""The connector SDK: what a connector package imports, and nothing of the engine.

A connector subclasses ``Connector``, picks a credential parent (``OAuth2`` or
``ApiKey``), and may subclass ``Client`` to teach it its error bodies.
"""

from connectors.errors import NeedsReauth, Permanent, RateLimited, Transient
from connectors.sdk.client import Client
from connectors.sdk.connector import LOCAL, Connector, Environment
from connectors.sdk.credentials import (
    ApiKey,
    AppCredentials,
    CredentialType,
    Field,
    OAuth2,
    RefreshRotation,
    Secrets,
)
from connectors.sdk.interfaces import OutboundRequest, ReplicaRecord, RoutedEvent

__all__ = [
    "LOCAL",
    "ApiKey",
    "AppCredentials",
    "Client",
    "Connector",
    "CredentialType",
    "Environment",
    "Field",
    "NeedsReauth",
    "OAuth2",
    "OutboundRequest",
    "Permanent",
    "RateLimited",
    "RefreshRotation",
    "ReplicaRecord",
    "RoutedEvent",
    "Secrets",
    "Transient",
]
