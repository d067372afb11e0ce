"""Salesforce: the web-server flow with PKCE, REST API on the org's instance URL.

Facts from PROVIDERS.md: PKCE S1-S3; the token response has no ``expires_in``
and ``issued_at`` is in milliseconds S5-S6 (signature = HMAC-SHA256 of
id + issued_at with the client secret); a refresh usually returns no new
refresh token S7 (keep the old; with rotation on, never reuse a rotated one);
401 INVALID_SESSION_ID means refresh, but "not valid for use with the REST
API" does not S10.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from connectors.errors import Permanent
from connectors.sdk import (
    AppCredentials,
    Client,
    Connector,
    Environment,
    OAuth2,
    RefreshRotation,
)

API_VERSION = "v62.0"


def identity_ids(identity_url: str) -> tuple[str, str]:
    """(org id, user id) from ``https://login.salesforce.com/id/<org>/<user>``."""
    parts = identity_url.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-3:-2] == ["id"]:
        return parts[-2], parts[-1]
    return "", ""


class SalesforceOAuth2(OAuth2):
    scopes = ("api", "refresh_token")
    pkce = True
    client_auth = "post"
    rotation = RefreshRotation.WHEN_RETURNED
    token_metadata = ("instance_url", "id")

    def is_expired(self, response: requests.Response) -> bool:
        if response.status_code != 401:
            return False
        # "This session is not valid for use with the REST API" is not cured by a refresh.
        return "not valid for use with the REST API" not in response.text

    def expires_at(self, token, *, now):
        return None  # Salesforce never says (S5); a 401 triggers the refresh instead.

    def metadata_from(self, *, callback, token) -> dict[str, str]:
        found = super().metadata_from(callback=callback, token=token)
        org_id, user_id = identity_ids(found.get("id", ""))
        if org_id:
            found.update(org_id=org_id, user_id=user_id)
        return found

    def _token_call(self, *, http, urls, app: AppCredentials, form: dict) -> dict[str, Any]:
        body = super()._token_call(http=http, urls=urls, app=app, form=form)
        signature_check(body, client_secret=app.client_secret)
        return body


def signature_check(token: Mapping[str, Any], *, client_secret: str) -> None:
    """The token response's ``signature`` must be HMAC-SHA256(secret, id + issued_at) (S6)."""
    signature = token.get("signature")
    if signature is None:
        return  # refresh responses of some orgs omit it
    message = f"{token.get('id', '')}{token.get('issued_at', '')}".encode()
    expected = base64.b64encode(hmac.new(client_secret.encode(), message, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, str(signature).encode()):
        raise Permanent(
            "Salesforce's token response failed its signature check.", provider_code="signature"
        )


class SalesforceClient(Client):
    def describe_error(self, response: requests.Response) -> tuple[str, str]:
        try:
            errors = response.json()
        except ValueError:
            return str(response.status_code), response.text[:300]
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("errorCode", "")), str(errors[0].get("message", ""))
        return str(response.status_code), response.text[:300]

    def is_throttled(self, response: requests.Response) -> bool:
        # The org's API limit is 403 REQUEST_LIMIT_EXCEEDED (S11).
        return response.status_code == 429 or (
            response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in response.text
        )


def salesforce_environments(urls_for) -> tuple[Environment, ...]:
    """Production, sandbox org and local sandbox, with ``urls_for(login host)`` each."""
    return (
        Environment(
            "production", "Salesforce production", urls_for("https://login.salesforce.com")
        ),
        Environment("sandbox", "Salesforce sandbox org", urls_for("https://test.salesforce.com")),
        Environment("local", "Local sandbox server", urls_for("{local}")),
    )


def limits_check(client: Client) -> dict[str, Any]:
    """The cheap authenticated call of every Salesforce-based connector: the org's limits."""
    limits = client.get("limits").json()
    daily = limits.get("DailyApiRequests", {}) if isinstance(limits, dict) else {}
    return {
        "org_id": client.metadata.get("org_id", ""),
        "api_requests_remaining": daily.get("Remaining"),
    }


def _oauth_urls(login_host: str) -> dict[str, str]:
    return {
        "authorize": f"{login_host}/services/oauth2/authorize",
        "token": f"{login_host}/services/oauth2/token",
        "revoke": f"{login_host}/services/oauth2/revoke",
        "api": "{instance_url}/services/data/" + API_VERSION,
    }


class Salesforce(Connector):
    key = "salesforce"
    name = "Salesforce"
    description = "A Salesforce org (also how a tenant may connect Revenova TMS by OAuth)."
    credential = SalesforceOAuth2()
    client_class: ClassVar[type[Client]] = SalesforceClient
    environments = salesforce_environments(_oauth_urls)
    sandbox_module = "connectors.salesforce.sandbox"
    sandbox_port = 9502
    local_app = AppCredentials(
        client_id="nexiom-dev-salesforce",
        client_secret="dev-secret-salesforce",  # noqa: S106 - the local sandbox only
    )

    def test(self, client: Client) -> dict[str, Any]:
        return limits_check(client)
