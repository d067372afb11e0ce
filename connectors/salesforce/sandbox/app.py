"""The Salesforce sandbox: an org's OAuth 2.0 web-server flow and the REST calls Nexiom makes.

What it imitates and where it differs: see ``platform.py`` (shared with the
Revenova sandbox). Specific to this sandbox: the client ``nexiom-dev-salesforce``
and the refresh-token rotation switch, off by default as in a connected app
(S7): ``--rotate-refresh-tokens`` makes every refresh return a new refresh
token and kills the one it replaced at once.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from connectors.sandbox_kit import RotationRule, SandboxOptions, create_sandbox_app

from .platform import SalesforcePlatform

DEFAULT_CLIENT_ID = "nexiom-dev-salesforce"
DEFAULT_CLIENT_SECRET = "dev-secret-salesforce"  # noqa: S105 - a local sandbox's dev secret

DEFAULTS: dict[str, Any] = {
    "client_id": DEFAULT_CLIENT_ID,
    "client_secret": DEFAULT_CLIENT_SECRET,
    "access_ttl": 3600.0,  # the session timeout; never announced to the client (S5)
    "refresh_ttl": None,  # refresh tokens live until revoked (connected-app default)
    "rate_limit": None,
    "rate_window": 60.0,
    "concurrency": None,
}


class SalesforceSandbox(SalesforcePlatform):
    name = "salesforce"
    display_name = "Salesforce"


def platform_options(defaults: dict[str, Any], options: dict[str, Any]) -> SandboxOptions:
    """``SandboxOptions`` from a Salesforce-platform sandbox's defaults and keyword options.

    ``rotate_refresh_tokens`` (bool) turns rotation on (S7); other unknown keys
    (``org_id``, ``user_id``, Revenova's login) land in ``SandboxOptions.extra``.
    """
    rotate = bool(options.pop("rotate_refresh_tokens", False))
    merged = {**defaults, **{k: v for k, v in options.items() if v is not None}}
    for nullable in ("rate_limit", "concurrency", "refresh_ttl"):
        if nullable in options:
            merged[nullable] = options[nullable]
    merged["rotation"] = RotationRule(rotate=rotate, grace_seconds=0.0)
    base = SandboxOptions(
        client_id=merged.pop("client_id"), client_secret=merged.pop("client_secret")
    )
    return base.replace(**merged)


def create_app(**options: Any) -> web.Application:
    """The Salesforce sandbox app; ``options`` override ``DEFAULTS``, plus
    ``rotate_refresh_tokens``, ``org_id`` and ``user_id``."""
    return create_sandbox_app(SalesforceSandbox(platform_options(DEFAULTS, options)))
