"""QuickBooks Online: OAuth2 with rotating refresh tokens, the v3 accounting API.

Facts from PROVIDERS.md: endpoints Q1-Q3, Basic client auth Q9-Q10, revoke
with a JSON body Q11, realmId on the callback Q8, 1-hour access tokens Q13,
refresh tokens that rotate (keep the newest; the previous one lives 24 h) Q15,
base URLs Q20.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from connectors.errors import Transient
from connectors.quickbooks.client import QuickBooksClient
from connectors.quickbooks.delivery import QuickBooksDelivery
from connectors.quickbooks.outbound import QuickBooksOutbound
from connectors.quickbooks.webhooks import QuickBooksWebhooks
from connectors.sdk import (
    AppCredentials,
    Client,
    Connector,
    Environment,
    OAuth2,
    RefreshRotation,
)

_INTUIT_OAUTH = {
    "authorize": "https://appcenter.intuit.com/connect/oauth2",
    "token": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
    "revoke": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
}


class QuickBooksOAuth2(OAuth2):
    scopes = ("com.intuit.quickbooks.accounting",)
    client_auth = "basic"
    rotation = RefreshRotation.ALWAYS
    callback_metadata = ("realmId",)
    # Ask for the 5-year hard expiry (Q17-Q18).
    token_headers = {"x-include-refresh-token-hard-expires-in": "true"}

    def revoke(
        self, *, http: requests.Session, urls: Mapping[str, str], app: AppCredentials, secrets
    ) -> None:
        # Intuit revokes with a JSON body and Basic auth (Q11).
        token = secrets.get("refresh_token") or secrets.get("access_token")
        if not token:
            return
        try:
            response = http.post(
                urls["revoke"],
                json={"token": token},
                auth=(app.client_id, app.client_secret),
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise Transient("Intuit's revoke endpoint could not be reached.") from exc
        if response.status_code >= 500:
            raise Transient(f"Intuit's revoke endpoint failed with HTTP {response.status_code}.")


class QuickBooks(Connector):
    key = "quickbooks"
    name = "QuickBooks Online"
    description = "Invoices, customers and bills in QuickBooks Online (accounting scope)."
    credential = QuickBooksOAuth2()
    client_class = QuickBooksClient
    environments = (
        Environment(
            "production",
            "QuickBooks production",
            {**_INTUIT_OAUTH, "api": "https://quickbooks.api.intuit.com/v3/company/{realmId}"},
        ),
        Environment(
            "sandbox",
            "Intuit developer sandbox",
            {
                **_INTUIT_OAUTH,
                "api": "https://sandbox-quickbooks.api.intuit.com/v3/company/{realmId}",
            },
        ),
        Environment(
            "local",
            "Local sandbox server",
            {
                "authorize": "{local}/oauth/authorize",
                "token": "{local}/oauth/token",
                "revoke": "{local}/oauth/revoke",
                "api": "{local}/v3/company/{realmId}",
            },
        ),
    )
    sandbox_module = "connectors.quickbooks.sandbox"
    sandbox_port = 9501
    local_app = AppCredentials(
        client_id="nexiom-dev-quickbooks",
        client_secret="dev-secret-quickbooks",  # noqa: S106 - the local sandbox only
    )
    #: Layer 4 (invoices, customers) and inbound webhooks (intuit-signature, Q41-Q44).
    outbound: ClassVar[Any] = QuickBooksOutbound()
    webhooks: ClassVar[Any] = QuickBooksWebhooks()
    #: Layer 5: invoices created once (requestid), customers found or created first.
    deliverer: ClassVar[Any] = QuickBooksDelivery()
    #: 500 requests/min and 10 in flight per realm (Q24, Q26); the engine stays below them.
    rate_limit: ClassVar[tuple[int, int] | None] = (500, 10)
    rate_limit_account: ClassVar[str] = "realmId"

    def test(self, client: Client) -> dict[str, Any]:
        realm = client.metadata.get("realmId", "")
        body = client.get(f"companyinfo/{realm}").json()
        info = body.get("CompanyInfo", {}) if isinstance(body, dict) else {}
        return {"company": info.get("CompanyName", ""), "realm_id": realm}
