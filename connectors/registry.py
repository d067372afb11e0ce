"""Installed connectors, found through the ``nexiom.connectors`` entry-point group.

Never an engine list: a connector package registers itself in pyproject.toml
and this module finds it (``pip install -e .`` refreshes the entry points).
"""

from __future__ import annotations

import functools
import logging
from importlib.metadata import entry_points

from connectors.errors import ConnectorUnknown
from connectors.sdk.connector import Connector

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "nexiom.connectors"


@functools.cache
def connectors_installed() -> dict[str, Connector]:
    """Every installed connector by key (loaded once per process)."""
    found: dict[str, Connector] = {}
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        connector_class = entry.load()
        if not (isinstance(connector_class, type) and issubclass(connector_class, Connector)):
            raise TypeError(f"entry point {entry.name} is not a Connector subclass")
        if connector_class.key != entry.name:
            raise TypeError(
                f"entry point {entry.name} names a connector whose key is {connector_class.key!r}"
            )
        found[entry.name] = connector_class()
    return found


def connector_get(*, key: str) -> Connector:
    try:
        return connectors_installed()[key]
    except KeyError:
        known = ", ".join(connectors_installed()) or "none"
        raise ConnectorUnknown(f"No connector {key!r} is installed (installed: {known}).") from None


def connector_choices() -> list[tuple[str, str]]:
    return [(key, connector.name) for key, connector in connectors_installed().items()]
