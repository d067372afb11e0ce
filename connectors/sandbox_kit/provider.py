"""What a sandbox must say about its provider: paths, rules and bodies, as data and hooks.

A provider's sandbox subclasses ``SandboxProvider``, sets the class attributes
(its OAuth paths, how revoke is called, how PKCE failures are worded) and
overrides the hooks that shape bodies: the token response, the 401, the
injected faults and the throttle answer, and registers its API routes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .options import SandboxOptions

if TYPE_CHECKING:
    from .app import Sandbox
    from .tokens import Token


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A compact JSON response (``web.json_response`` without its indentation cost)."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


@dataclass(slots=True)
class Grant:
    """What an approved consent produces: the provider account the tokens act on
    (QuickBooks realm, Salesforce org), details kept with the tokens, and extra
    query parameters for the redirect (QuickBooks ``realmId``, Q8)."""

    account: str
    subject: dict[str, Any] = field(default_factory=dict)
    callback_params: dict[str, str] = field(default_factory=dict)


class SandboxProvider:
    name = "provider"
    display_name = "Provider"
    authorize_path = "/oauth/authorize"
    token_path = "/oauth/token"  # noqa: S105 - a path, not a secret
    revoke_path = "/oauth/revoke"
    revoke_format = "form"  # "form": token=...; "json": {"token": ...}
    revoke_requires_client_auth = False
    revoke_unknown_status = 200  # RFC 7009 answers 200 for an unknown token
    pkce_required = False
    pkce_mismatch_error = "invalid_grant"
    invalid_refresh_description = "Incorrect or invalid refresh token"  # Q16

    def __init__(self, options: SandboxOptions) -> None:
        self.options = options

    # --- OAuth -----------------------------------------------------------------

    def approve(self, *, client_id: str, scope: str) -> Grant:
        return Grant(account=client_id)

    def consent_details(self, *, client_id: str) -> list[str]:
        """Lines the consent page shows under the title (e.g. which company)."""
        return []

    def issues_refresh_token(self, scope: str) -> bool:
        return True

    def token_body(
        self,
        *,
        request: web.Request,
        sandbox: Sandbox,
        access: Token,
        refresh: Token | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": access.value,
            "token_type": "bearer",
            "expires_in": int(self.options.access_ttl),
        }
        if refresh is not None:
            body["refresh_token"] = refresh.value
        return body

    def token_headers(self) -> dict[str, str]:
        return {}

    # --- API answers -----------------------------------------------------------

    def unauthorized(self) -> web.Response:
        return json_response({"error": "invalid_token"}, status=401)

    def fault(self, status: int) -> web.Response:
        return json_response({"error": f"injected fault {status}"}, status=status)

    def throttled(self, reason: str) -> web.Response:
        return self.fault(429)

    def check_account(self, request: web.Request, token: Token) -> web.Response | None:
        """Refuse a token used on another account's URL (None: allowed)."""
        return None

    def add_routes(self, sandbox: Sandbox, app: web.Application) -> None:
        """Register the API routes with ``sandbox.add_api_route``."""

    # --- held data ---------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {}

    def reset(self) -> None:
        """Forget every record the API created (``/__sandbox__/reset``)."""
