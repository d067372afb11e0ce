"""Every write to connections goes through here; connector code never calls these."""

from connectors.services.connections import (
    TestResult,
    connection_create,
    connection_delete,
    connection_disable,
    connection_refresh_now,
    connection_test,
)
from connectors.services.credentials import connection_client
from connectors.services.health import connection_health_check, connections_due, connections_sweep
from connectors.services.oauth import (
    CallbackOutcome,
    authorization_start,
    authorizations_prune,
    oauth_callback_complete,
    oauth_redirect_uri,
)
from connectors.services.tokens import connection_refresh

__all__ = [
    "CallbackOutcome",
    "TestResult",
    "authorization_start",
    "authorizations_prune",
    "connection_client",
    "connection_create",
    "connection_delete",
    "connection_disable",
    "connection_health_check",
    "connection_refresh",
    "connection_refresh_now",
    "connection_test",
    "connections_due",
    "connections_sweep",
    "oauth_callback_complete",
    "oauth_redirect_uri",
]
