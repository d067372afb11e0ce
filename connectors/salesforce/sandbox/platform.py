"""What every Salesforce org looks like to an API client; shared with the Revenova sandbox,
since Revenova TMS is a managed package inside a Salesforce org (R1, R3).

OAuth 2.0 web-server flow at Salesforce's own paths (S1, S2, S8) with PKCE
required (S3); the token body of fixtures/salesforce_token_response.json:
``instance_url`` (this sandbox), identity ``id``, ``issued_at`` in milliseconds
as a string, ``signature`` = base64(HMAC-SHA256(client secret, id + issued_at)),
and **no** ``expires_in`` (S5, S6). A refresh returns no refresh token unless
rotation is on, and then the rotated one is dead at once (S7). REST: errors
are JSON arrays of ``{message, errorCode}`` (S11); an expired or unknown
session is 401 ``INVALID_SESSION_ID`` with ``WWW-Authenticate: Token`` (S10).

Differs from the real platform: one host plays login.salesforce.com and the
org's My Domain; access tokens are random (real session ids start with the
org id and ``!``); the "api" scope is not enforced; the org API limit
(``DailyApiRequests``) counts this process's API calls and is never exhausted
unless ``--rate-limit`` is set, which then answers 403 REQUEST_LIMIT_EXCEEDED
as Salesforce does (S11); an injected 429 keeps status 429 with that body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Any

from aiohttp import web

from connectors.sandbox_kit import (
    Grant,
    Sandbox,
    SandboxOptions,
    SandboxProvider,
    Token,
    json_response,
)

DEFAULT_ORG_ID = "00D5e000000KqTzEAK"  # the org of fixtures/revenova_outbound_invoice.xml
DEFAULT_USER_ID = "0055e000007HsQwAAK"  # fixtures/salesforce_token_response.json
DAILY_API_REQUESTS = 15_000
INVOICE_OBJECT = "rtms__CustomerInvoice__c"
VERSION = "{version:v\\d+\\.\\d}"

# The two invoices of fixtures/revenova_outbound_invoice.xml, as REST returns them (R8).
INVOICES: dict[str, dict[str, Any]] = {
    "a0M5e00000Lk3QaEAJ": {
        "Id": "a0M5e00000Lk3QaEAJ",
        "Name": "INV-104233",
        "CurrencyIsoCode": "USD",
        "LastModifiedDate": "2025-03-14T16:02:11.000+0000",
        "rtms__Load__c": "a0j5e00000F7wXyAAJ",
        "rtms__Billing_Contact__c": "0035e00000VbN2sAAF",
        "rtms__Invoice_Status__c": "Invoiced",
        "rtms__Invoice_Date__c": "2025-03-14",
        "rtms__Invoice_Due_Date__c": "2025-04-13",
        "rtms__Invoice_Total__c": 2437.5,
        "rtms__Transportation_Total__c": 2437.5,
        "rtms__Net_Line_Haul__c": 1850.0,
        "rtms__Fuel_Surcharge__c": 412.5,
        "rtms__Accessorial_Charges__c": 175.0,
        "rtms__Payment_Discount__c": 0.0,
        "rtms__Tax_Amount__c": 0.0,
        "rtms__Balance_Due__c": 2437.5,
        "rtms__Paid_Amount__c": 0.0,
    },
    "a0M5e00000Lk3RbEAJ": {
        "Id": "a0M5e00000Lk3RbEAJ",
        "Name": "INV-104236",
        "CurrencyIsoCode": "CAD",
        "LastModifiedDate": "2025-03-14T16:02:19.000+0000",
        "rtms__Load__c": "a0j5e00000F7wYzAAJ",
        "rtms__Billing_Contact__c": "0035e00000VbN3tAAF",
        "rtms__Invoice_Status__c": "Invoiced",
        "rtms__Invoice_Date__c": "2025-03-14",
        "rtms__Invoice_Due_Date__c": "2025-04-28",
        "rtms__Invoice_Total__c": 3931.2,
        "rtms__Transportation_Total__c": 3744.0,
        "rtms__Net_Line_Haul__c": 3200.0,
        "rtms__Fuel_Surcharge__c": 544.0,
        "rtms__Accessorial_Charges__c": 0.0,
        "rtms__Payment_Discount__c": 0.0,
        "rtms__Tax_Amount__c": 187.2,
        "rtms__Balance_Due__c": 3931.2,
        "rtms__Paid_Amount__c": 0.0,
    },
}

_SOQL = re.compile(
    r"^\s*select\s+(?P<fields>.+?)\s+from\s+(?P<object>\w+)(?P<rest>.*?)"
    r"(?:\s+limit\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)


def sf_errors(status: int, error_code: str, message: str, **headers: str) -> web.Response:
    """A REST error: a JSON array of ``{message, errorCode}`` (S11)."""
    body = [{"message": message, "errorCode": error_code}]
    return json_response(body, status=status, headers=headers or None)


def id18(id15: str) -> str:
    """The 18-character form of a 15-character Salesforce id (the case checksum, S21)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += alphabet[bits]
    return id15 + suffix


class SalesforcePlatform(SandboxProvider):
    """A Salesforce org's OAuth server and the REST calls Nexiom makes."""

    name = "salesforce"
    display_name = "Salesforce"
    authorize_path = "/services/oauth2/authorize"
    token_path = "/services/oauth2/token"  # noqa: S105 - a path, not a secret
    revoke_path = "/services/oauth2/revoke"
    revoke_format = "form"  # S8
    revoke_unknown_status = 400  # S8: invalid_token
    pkce_required = True
    pkce_mismatch_error = "invalid_request"  # S3: a verifier that does not match

    @property
    def org_id(self) -> str:
        return str(self.options.extra.get("org_id") or DEFAULT_ORG_ID)

    @property
    def user_id(self) -> str:
        return str(self.options.extra.get("user_id") or DEFAULT_USER_ID)

    def __init__(self, options: SandboxOptions) -> None:
        super().__init__(options)
        self.reset()

    def reset(self) -> None:
        self.api_calls = 0

    # --- OAuth -----------------------------------------------------------------------

    def consent_details(self, *, client_id: str) -> list[str]:
        return [f"Org: {self.org_id}", f"User: {self.user_id}"]

    def approve(self, *, client_id: str, scope: str) -> Grant:
        return Grant(account=self.org_id, subject={"user_id": self.user_id})

    def issues_refresh_token(self, scope: str) -> bool:
        # Only with the refresh_token (or offline_access) scope (S5); an empty scope means
        # the connected app's defaults, which the sandbox takes to include it.
        scopes = set(scope.split())
        return not scopes or bool(scopes & {"refresh_token", "offline_access", "full"})

    def token_body(
        self, *, request: web.Request, sandbox: Sandbox, access: Token, refresh: Token | None
    ) -> dict[str, Any]:
        base = sandbox.base_url(request)
        identity = f"{base}/id/{access.account}/{access.subject.get('user_id', self.user_id)}"
        issued_at = str(int(time.time() * 1000))  # milliseconds, as real answers are (S6)
        digest = hmac.new(
            self.options.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
        body: dict[str, Any] = {"access_token": access.value}
        if refresh is not None:
            body["refresh_token"] = refresh.value
        body.update(
            signature=base64.b64encode(digest).decode(),
            scope=access.scope or "api refresh_token",
            instance_url=base,
            id=identity,
            token_type="Bearer",  # noqa: S106 - the token type, not a secret
            issued_at=issued_at,
        )
        return body

    # --- gate ------------------------------------------------------------------------------

    def unauthorized(self) -> web.Response:
        return sf_errors(
            401, "INVALID_SESSION_ID", "Session expired or invalid", **{"WWW-Authenticate": "Token"}
        )

    def fault(self, status: int) -> web.Response:
        if status == 401:
            return self.unauthorized()
        if status in (403, 429):
            return sf_errors(status, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if status == 503:
            return sf_errors(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable [sandbox]")
        return sf_errors(
            status,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact "
            "support: 0000000000-00000 (-0) [sandbox]",
        )

    def throttled(self, reason: str) -> web.Response:
        if reason == "concurrency":
            return sf_errors(
                403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."
            )
        return self.fault(403)

    # --- REST ---------------------------------------------------------------------------------

    def add_routes(self, sandbox: Sandbox, app: web.Application) -> None:
        self.sandbox = sandbox
        add = sandbox.add_api_route
        add(app, "GET", "/services/oauth2/userinfo", self.userinfo)
        add(app, "GET", "/id/{org}/{user}", self.userinfo)
        add(app, "GET", f"/services/data/{VERSION}/limits", self.limits)
        add(app, "GET", f"/services/data/{VERSION}/query", self.query)
        add(app, "GET", f"/services/data/{VERSION}/sobjects/{{sobject}}/{{id}}", self.sobject)

    def _count(self) -> None:
        self.api_calls += 1

    async def userinfo(self, request: web.Request, token: Token | None) -> web.Response:
        self._count()
        assert token is not None  # noqa: S101 - the gate guarantees it
        base = self.sandbox.base_url(request)
        user = token.subject.get("user_id", self.user_id)
        username = token.subject.get("username", "admin@demo-freight.example")
        return json_response(
            {
                "sub": f"{base}/id/{token.account}/{user}",
                "user_id": user,
                "organization_id": token.account,
                "preferred_username": username,
                "nickname": username.split("@")[0],
                "name": token.subject.get("name", "Sandbox Admin"),
                "email": username,
                "email_verified": True,
                "zoneinfo": "America/Los_Angeles",
                "locale": "en_US",
                "language": "en_US",
                "active": True,
                "user_type": "STANDARD",
                "urls": {
                    "rest": f"{base}/services/data/v{{version}}/",
                    "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
                    "query": f"{base}/services/data/v{{version}}/query/",
                },
            }
        )

    async def limits(self, request: web.Request, token: Token | None) -> web.Response:
        self._count()
        remaining = max(0, DAILY_API_REQUESTS - self.api_calls)
        return json_response(
            {
                "DailyApiRequests": {"Max": DAILY_API_REQUESTS, "Remaining": remaining},
                "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                "DataStorageMB": {"Max": 5, "Remaining": 5},
                "SingleEmail": {"Max": 15, "Remaining": 15},
            }
        )

    @staticmethod
    def _record(request: web.Request, record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        version = request.match_info["version"]
        url = f"/services/data/{version}/sobjects/{INVOICE_OBJECT}/{record_id}"
        return {"attributes": {"type": INVOICE_OBJECT, "url": url}, **fields}

    async def sobject(self, request: web.Request, token: Token | None) -> web.Response:
        self._count()
        record = INVOICES.get(request.match_info["id"])
        if request.match_info["sobject"] != INVOICE_OBJECT or record is None:
            return sf_errors(404, "NOT_FOUND", "The requested resource does not exist")
        return json_response(self._record(request, record["Id"], record))

    async def query(self, request: web.Request, token: Token | None) -> web.Response:
        """SOQL, only ``SELECT <fields> FROM rtms__CustomerInvoice__c [... LIMIT n]`` over the
        two fixture invoices; a WHERE clause is accepted and ignored."""
        self._count()
        soql = request.query.get("q", "")
        match = _SOQL.match(soql)
        if match is None:
            return sf_errors(400, "MALFORMED_QUERY", f"unexpected token: {soql[:40]!r}")
        if match["object"] != INVOICE_OBJECT:
            return sf_errors(
                400, "INVALID_TYPE", f"sObject type '{match['object']}' is not supported."
            )
        fields = [f.strip() for f in match["fields"].split(",") if f.strip()]
        unknown = [f for f in fields if f not in INVOICES["a0M5e00000Lk3QaEAJ"]]
        if unknown:
            return sf_errors(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on entity")
        limit = int(match["limit"]) if match["limit"] else len(INVOICES)
        records = [
            self._record(request, rec["Id"], {f: rec[f] for f in fields})
            for rec in list(INVOICES.values())[:limit]
        ]
        return json_response({"totalSize": len(records), "done": True, "records": records})

    def state(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "user_id": self.user_id,
            "api_calls": self.api_calls,
            "records": {INVOICE_OBJECT: sorted(INVOICES)},
        }
