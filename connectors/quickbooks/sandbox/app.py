"""The QuickBooks Online sandbox: Intuit's OAuth 2.0 server and the v3 Accounting API.

Imitated (PROVIDERS.md section 1):
- OAuth: consent, then a redirect with ``code``, ``state`` and ``realmId`` (Q8,
  only for the accounting/payment scopes); code exchange and refresh with
  HTTP Basic or form client authentication (Q4, Q9, Q10); the token body of
  fixtures/qbo_token_response.json (Q12) with an ``intuit_tid`` header (Q19);
  access tokens for 1 h (Q13), refresh tokens rolling 100 days (Q14), a new
  refresh token on every refresh with the previous one honoured for 24 h
  (Q15, ``--refresh-grace``); ``invalid_grant`` for a dead one (Q16); revoke
  with a JSON body and Basic auth (Q11).
- API under ``/v3/company/{realmId}``: companyinfo, query, customer create and
  read, invoice create, read, full and sparse update; ``minorversion`` >= 75
  (Q21); ``requestid`` idempotency per realm (Q22); SyncToken conflicts
  (Q23); the fault bodies of section 1.4; 500 requests/min and 10 in flight
  per realm answered with the XML 429 (Q24-Q28).

Differs from the real service: paths are on one host (``/oauth/authorize``,
``/oauth/token``, ``/oauth/revoke`` instead of appcenter.intuit.com and
oauth.platform.intuit.com, Q1-Q3); no OpenID ``id_token``, no
``x_refresh_token_hard_expires_in`` (Q18); the refresh token value changes on
every refresh (the real one about once a day, Q15); no 10 requests/s limit,
monthly quota or batch endpoint; a missing ``minorversion`` is refused
(PROVIDERS.md does not say what the real API answers; the sandbox is strict
so a client that forgets it fails here first).
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from connectors.sandbox_kit import (
    Grant,
    RotationRule,
    Sandbox,
    SandboxOptions,
    SandboxProvider,
    Token,
    create_sandbox_app,
)

from . import bodies, query
from .company import Company, RequestRecord, new_realm_id
from .records import QboFault, customer_create, invoice_create, invoice_update

DEFAULT_CLIENT_ID = "nexiom-dev-quickbooks"
DEFAULT_CLIENT_SECRET = "dev-secret-quickbooks"  # noqa: S105 - a local sandbox's dev secret
MIN_MINOR_VERSION = 75  # Q21
REQUESTID_MAX = 50  # Q22
REALM_SCOPES = ("com.intuit.quickbooks.accounting", "com.intuit.quickbooks.payment")  # Q8
REFRESH_TTL = 8_726_400.0  # x_refresh_token_expires_in, Q14
REFRESH_GRACE = 86_400.0  # Q15

DEFAULTS: dict[str, Any] = {
    "client_id": DEFAULT_CLIENT_ID,
    "client_secret": DEFAULT_CLIENT_SECRET,
    "access_ttl": 3600.0,
    "refresh_ttl": REFRESH_TTL,
    "rate_limit": 500,  # Q24
    "rate_window": 60.0,
    "concurrency": 10,  # Q26
}


class QuickBooksSandbox(SandboxProvider):
    name = "quickbooks"
    display_name = "QuickBooks Online"
    revoke_format = "json"  # Q11
    revoke_requires_client_auth = True

    def __init__(self, options: SandboxOptions, *, company_per_consent: bool = False) -> None:
        super().__init__(options)
        #: Each consent creates a new company (each tenant its own QuickBooks, as in
        #: production), instead of one company per client id (Intuit's sandbox).
        self.company_per_consent = company_per_consent
        self.reset()

    def reset(self) -> None:
        self.companies: dict[str, Company] = {}
        self.company_of_client: dict[str, str] = {}

    # --- OAuth ---------------------------------------------------------------------

    def consent_details(self, *, client_id: str) -> list[str]:
        realm = self.company_of_client.get(client_id)
        if realm is None:
            return ["Company: a new sandbox company"]
        return [f"Company: {self.companies[realm].name} (realm {realm})"]

    def approve(self, *, client_id: str, scope: str) -> Grant:
        if not any(s in scope.split() for s in REALM_SCOPES):
            return Grant(account="")  # OpenID-only consent: no company, no realmId (Q8)
        realm = None if self.company_per_consent else self.company_of_client.get(client_id)
        if realm is None:
            realm = new_realm_id(set(self.companies))
            number = len(self.companies) + 1
            self.companies[realm] = Company(
                realm_id=realm,
                client_id=client_id,
                name=f"Sandbox Company_US_{number}",
                created_at=time.time(),
            )
            self.company_of_client[client_id] = realm
        return Grant(account=realm, subject={"realmId": realm}, callback_params={"realmId": realm})

    def token_body(
        self, *, request: web.Request, sandbox: Sandbox, access: Token, refresh: Token | None
    ) -> dict[str, Any]:
        # fixtures/qbo_token_response.json (Q12). Every Intuit token answer has a refresh
        # token: on a refresh it is the new one (the sandbox always rotates, see module doc).
        body: dict[str, Any] = {
            "token_type": "bearer",
            "access_token": access.value,
            "expires_in": int(self.options.access_ttl),
        }
        if refresh is not None:
            body["refresh_token"] = refresh.value
            if refresh.expires_at is not None:
                body["x_refresh_token_expires_in"] = int(refresh.expires_at - time.time())
        return body

    def token_headers(self) -> dict[str, str]:
        return bodies.tid_headers()

    # --- gate ------------------------------------------------------------------------

    def unauthorized(self) -> web.Response:
        return bodies.unauthorized()

    def fault(self, status: int) -> web.Response:
        return bodies.fault(status)

    def throttled(self, reason: str) -> web.Response:
        return bodies.throttled()

    def check_account(self, request: web.Request, token: Token) -> web.Response | None:
        realm = request.match_info.get("realm")
        if realm is None:
            return None
        if token.account != realm or realm not in self.companies:
            return bodies.forbidden()  # another company's realm, or no accounting scope (Q31)
        return None

    # --- API ---------------------------------------------------------------------------

    def add_routes(self, sandbox: Sandbox, app: web.Application) -> None:
        base = "/v3/company/{realm}"
        add = sandbox.add_api_route
        add(app, "GET", base + "/companyinfo/{id}", self.companyinfo)
        add(app, "GET", base + "/query", self.query)
        add(app, "POST", base + "/query", self.query)
        add(app, "POST", base + "/customer", self.customer_post)
        add(app, "GET", base + "/customer/{id}", self.customer_get)
        add(app, "POST", base + "/invoice", self.invoice_post)
        add(app, "GET", base + "/invoice/{id}", self.invoice_get)
        add(app, "GET", base + "/item/{id}", self.item_get)

    @staticmethod
    def _minor_version(request: web.Request) -> web.Response | None:
        value = request.query.get("minorversion")
        if value is not None and value.isdigit() and int(value) >= MIN_MINOR_VERSION:
            return None
        detail = (
            "minorversion is required by the sandbox"
            if value is None
            else f"minorversion {value} is not supported"
        )
        return bodies.validation_fault(
            bodies.qbo_error(
                "Invalid minor version",
                f"{detail}: minor versions 1-74 are unsupported since 1 Aug 2025; "
                f"send minorversion={MIN_MINOR_VERSION} or higher",
                "2010",
                "minorversion",
            )
        )

    def _company(self, request: web.Request) -> Company:
        return self.companies[request.match_info["realm"]]

    @staticmethod
    def _ok(entity: str, record: dict[str, Any]) -> web.Response:
        payload = {entity: record, "time": bodies.qbo_time()}
        return web.Response(
            body=json.dumps(payload, separators=(",", ":")).encode(),
            content_type="application/json",
            headers=bodies.tid_headers(),
        )

    async def companyinfo(self, request: web.Request, token: Token | None) -> web.Response:
        refusal = self._minor_version(request)
        if refusal is not None:
            return refusal
        company = self._company(request)
        if request.match_info["id"] != company.realm_id:
            return bodies.object_not_found("CompanyInfo", request.match_info["id"])
        return self._ok("CompanyInfo", company.company_info())

    async def query(self, request: web.Request, token: Token | None) -> web.Response:
        refusal = self._minor_version(request)
        if refusal is not None:
            return refusal
        text = request.query.get("query")
        if request.method == "POST":
            text = (await request.text()) or text
        try:
            parsed = query.parse(text or "")
        except query.QueryError as exc:
            return bodies.validation_fault(
                bodies.qbo_error("Error parsing query", str(exc), "4000")
            )
        table = self._company(request).table(parsed.entity) or {}
        return self._ok("QueryResponse", query.run(parsed, table))

    async def _get(self, request: web.Request, entity: str, table_name: str) -> web.Response:
        refusal = self._minor_version(request)
        if refusal is not None:
            return refusal
        table = self._company(request).table(table_name) or {}
        record = table.get(request.match_info["id"])
        if record is None:
            return bodies.object_not_found(entity, request.match_info["id"])
        return self._ok(entity, record)

    async def customer_get(self, request: web.Request, token: Token | None) -> web.Response:
        return await self._get(request, "Customer", "Customer")

    async def invoice_get(self, request: web.Request, token: Token | None) -> web.Response:
        return await self._get(request, "Invoice", "Invoice")

    async def item_get(self, request: web.Request, token: Token | None) -> web.Response:
        return await self._get(request, "Item", "Item")

    async def customer_post(self, request: web.Request, token: Token | None) -> web.Response:
        return await self._write(request, "Customer", customer_create)

    async def invoice_post(self, request: web.Request, token: Token | None) -> web.Response:
        def write(company: Company, body: dict[str, Any]) -> dict[str, Any]:
            if "Id" in body:
                return invoice_update(company, body)
            return invoice_create(company, body)

        return await self._write(request, "Invoice", write)

    async def _write(self, request: web.Request, entity: str, write: Any) -> web.Response:
        """A create or update, replayed from the first answer when its requestid repeats (Q22).

        Everything after the body is read runs without an ``await``, so two
        concurrent requests with one requestid cannot both write.
        """
        refusal = self._minor_version(request)
        if refusal is not None:
            return refusal
        raw = await request.read()
        company = self._company(request)
        request_id = request.query.get("requestid")
        if request_id is not None:
            if len(request_id) > REQUESTID_MAX:
                return bodies.validation_fault(
                    bodies.qbo_error(
                        "Invalid requestid",
                        f"requestid must be at most {REQUESTID_MAX} characters",
                        "2010",
                        "requestid",
                    )
                )
            seen = company.requestids.get(request_id)
            if seen is not None:
                seen.replays += 1
                return web.Response(
                    body=seen.body,
                    status=seen.status,
                    content_type="application/json",
                    headers=bodies.tid_headers(),
                )
        response, record_id = self._apply(company, entity, raw, write)
        if request_id is not None:
            company.requestids[request_id] = RequestRecord(
                method=request.method,
                path=request.path,
                status=response.status,
                body=response.body,  # type: ignore[arg-type]
                entity_id=record_id,
            )
        return response

    def _apply(
        self, company: Company, entity: str, raw: bytes, write: Any
    ) -> tuple[web.Response, str | None]:
        if not raw.strip():
            fault = bodies.qbo_error("Request Body is Empty", "Request Body is Empty", "2310")
            return bodies.validation_fault(fault), None
        try:
            body = json.loads(raw)
        except ValueError as exc:
            fault = bodies.qbo_error("Error parsing object", f"Parse error: {exc}", "2310")
            return bodies.validation_fault(fault), None
        if not isinstance(body, dict):
            fault = bodies.qbo_error("Error parsing object", "expected a JSON object", "2310")
            return bodies.validation_fault(fault), None
        try:
            record = write(company, body)
        except QboFault as exc:
            return bodies.validation_fault(*exc.errors), None
        return self._ok(entity, record), record["Id"]

    # --- state -------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {"companies": {realm: c.state() for realm, c in self.companies.items()}}


def create_app(**options: Any) -> web.Application:
    """The QuickBooks sandbox app; ``options`` override ``DEFAULTS`` (see ``SandboxOptions``),
    plus ``refresh_grace`` (seconds the previous refresh token stays valid, default 24 h) and
    ``company_per_consent`` (a new company for every consent, default off)."""
    grace = options.pop("refresh_grace", None)
    per_consent = bool(options.pop("company_per_consent", False))
    merged = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    for nullable in ("rate_limit", "concurrency", "refresh_ttl"):
        if nullable in options:
            merged[nullable] = options[nullable]
    merged["rotation"] = RotationRule(
        rotate=True, grace_seconds=REFRESH_GRACE if grace is None else float(grace)
    )
    base = SandboxOptions(
        client_id=merged.pop("client_id"), client_secret=merged.pop("client_secret")
    )
    return create_sandbox_app(
        QuickBooksSandbox(base.replace(**merged), company_per_consent=per_consent)
    )
