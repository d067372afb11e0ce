"""The ``Connector`` class: one per external system, found through an entry point.

A connector package declares one subclass and registers it in pyproject.toml::

    [project.entry-points."nexiom.connectors"]
    quickbooks = "connectors.quickbooks.connector:QuickBooks"

Everything a connector knows about its provider is data here: the credential
type, the environments and their URLs (templated with values captured at
connect time, e.g. ``{realmId}`` or ``{instance_url}``), the local sandbox,
and the cheap call that tests a connection.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from connectors.errors import ConnectionInvalid
from connectors.sdk.client import Client
from connectors.sdk.credentials import AppCredentials, CredentialType

#: The environment served by the connector's own sandbox server on this machine.
LOCAL = "local"


@dataclass(frozen=True)
class Environment:
    """Where a connection's provider lives: production, the provider's sandbox, or ours."""

    key: str
    label: str
    #: Named URLs ("authorize", "token", "revoke", "api", ...); "{local}" is the local
    #: sandbox's base URL, other "{name}"s are connection metadata (realmId, instance_url).
    urls: Mapping[str, str]


class Connector:
    """Base of every connector. Subclasses set the class attributes; few override methods."""

    key: ClassVar[str] = ""
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    credential: ClassVar[CredentialType]
    environments: ClassVar[tuple[Environment, ...]] = ()
    client_class: ClassVar[type[Client]] = Client
    #: ``python -m <sandbox_module> --port <sandbox_port>`` runs the local sandbox.
    sandbox_module: ClassVar[str] = ""
    sandbox_port: ClassVar[int] = 0
    #: Nexiom's registration at the local sandbox (dev values, not secrets).
    local_app: ClassVar[AppCredentials | None] = None
    #: Recorded payloads the standard suite parses (when the connector has a parser).
    fixtures_dir: ClassVar[Path | None] = None
    # The pipeline's interfaces (connectors.sdk.interfaces); None where not taken part.
    parser: ClassVar[Any] = None
    mapper: ClassVar[Any] = None
    outbound: ClassVar[Any] = None
    webhooks: ClassVar[Any] = None
    #: L1: how the gateway recognises and acknowledges this system's messages.
    inbound: ClassVar[Any] = None
    #: L5: how records are brought to this system (creates with idempotency keys).
    deliverer: ClassVar[Any] = None
    #: Requests per minute and in flight the provider allows per account (None: no limit);
    #: the engine's shared limiter keeps below them. ``rate_limit_account`` names the account.
    rate_limit: ClassVar[tuple[int, int] | None] = None
    rate_limit_account: ClassVar[str] = ""

    def environment(self, key: str) -> Environment:
        for environment in self.environments:
            if environment.key == key:
                return environment
        known = ", ".join(env.key for env in self.environments)
        raise ConnectionInvalid(
            f"{self.name} has no environment {key!r} (choose {known}).",
            fields={"environment": [f"Choose one of {known}."]},
        )

    def local_base_url(self) -> str:
        """The local sandbox's base URL; ``<KEY>_LOCAL_URL`` points it elsewhere."""
        default = f"http://127.0.0.1:{self.sandbox_port}"
        return os.environ.get(f"{self.key.upper()}_LOCAL_URL", default).rstrip("/")

    def urls(self, environment: str, metadata: Mapping[str, Any] | None = None) -> dict[str, str]:
        """The environment's URLs with the local base and the connection's metadata filled in."""
        values = {"local": self.local_base_url(), **(metadata or {})}
        resolved = {}
        for name, template in self.environment(environment).urls.items():
            try:
                resolved[name] = template.format_map(values)
            except KeyError:
                continue  # needs metadata the connection does not have yet (before connecting)
        return resolved

    def app_credentials(self, environment: str) -> AppCredentials:
        """Nexiom's client id and secret: ``<KEY>_CLIENT_ID`` / ``<KEY>_CLIENT_SECRET``.

        The local sandbox falls back to the connector's dev registration.
        """
        prefix = self.key.upper()
        client_id = os.environ.get(f"{prefix}_CLIENT_ID", "")
        client_secret = os.environ.get(f"{prefix}_CLIENT_SECRET", "")
        if environment == LOCAL and self.local_app and not client_id:
            return self.local_app
        if not client_id or not client_secret:
            raise ConnectionInvalid(
                f"{self.name} is not configured on this platform: set {prefix}_CLIENT_ID and "
                f"{prefix}_CLIENT_SECRET."
            )
        return AppCredentials(client_id=client_id, client_secret=client_secret)

    def test(self, client: Client) -> dict[str, Any]:
        """One cheap authenticated call; returns what it learned (shown as the last check)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What ``GET /api/connectors/`` shows about this connector."""
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "credential": self.credential.describe(),
            "environments": [{"key": env.key, "label": env.label} for env in self.environments],
            "flows": {
                "parser": self.parser is not None,
                "mapper": self.mapper is not None,
                "outbound": self.outbound is not None,
                "webhooks": self.webhooks is not None,
            },
        }
