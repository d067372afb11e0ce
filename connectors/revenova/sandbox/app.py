"""The Revenova TMS sandbox: a Salesforce org with the ``rtms`` package, reached the way
Revenova's web services are: a SOAP ``login()`` as the integration user, then REST
with ``Authorization: Bearer <sessionId>`` (R2, R3).

Imitated: ``POST /services/Soap/u/62.0`` (partner) or ``/services/Soap/c/62.0``
(enterprise) with a ``login`` envelope, where the password is the user's
password followed by the security token; the answer is a ``loginResponse``
with ``sessionId``, ``serverUrl``, ``userId`` and ``userInfo/organizationId``,
or an HTTP 500 ``sf:INVALID_LOGIN`` fault. A ``LoginScopeHeader`` naming another
org is refused the same way. Then REST: ``limits`` (the cheap test call),
``query`` (SOQL on ``rtms__CustomerInvoice__c``, a fixed tiny answer) and the
sobject read, with 401 ``INVALID_SESSION_ID`` once the session expires
(``--access-ttl``). The org's OAuth endpoints are here too, since a tenant may
connect Revenova through Salesforce OAuth instead (client ``nexiom-dev-revenova``).

Differs from the real org: one integration user; no login-IP ranges (R3), so
the security token is always required; no ``logout``; sessions are random
strings, not ``<orgId>!...``; no Apex REST services (R5).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from aiohttp import web

from connectors.salesforce.sandbox.app import platform_options
from connectors.salesforce.sandbox.platform import SalesforcePlatform, id18
from connectors.sandbox_kit import Sandbox, create_sandbox_app, fingerprint

from . import soap

DEFAULT_CLIENT_ID = "nexiom-dev-revenova"
DEFAULT_CLIENT_SECRET = "dev-secret-revenova"  # noqa: S105 - a local sandbox's dev secret
DEFAULT_USERNAME = "integration@demo-freight.example"
DEFAULT_PASSWORD = "dev-password-revenova"  # noqa: S105 - a local sandbox's dev password
DEFAULT_SECURITY_TOKEN = "devSecurityToken123"  # noqa: S105 - a local sandbox's dev token
INTEGRATION_USER_ID = id18("0055e000007HtIn")

DEFAULTS: dict[str, Any] = {
    "client_id": DEFAULT_CLIENT_ID,
    "client_secret": DEFAULT_CLIENT_SECRET,
    "access_ttl": 7200.0,  # Salesforce's default session timeout is 2 hours
    "refresh_ttl": None,
    "rate_limit": None,
    "rate_window": 60.0,
    "concurrency": None,
}


class RevenovaSandbox(SalesforcePlatform):
    name = "revenova"
    display_name = "Revenova TMS"

    def reset(self) -> None:
        super().reset()
        self.logins: list[dict[str, Any]] = []

    @property
    def username(self) -> str:
        return str(self.options.extra.get("username") or DEFAULT_USERNAME)

    def add_routes(self, sandbox: Sandbox, app: web.Application) -> None:
        super().add_routes(sandbox, app)
        sandbox.add_route(
            app, "POST", "/services/Soap/{kind:[uc]}/{version:\\d+\\.\\d}", self.login, api=False
        )

    def _credentials_ok(self, request: soap.LoginRequest) -> bool:
        extra = self.options.extra
        expected = str(extra.get("password") or DEFAULT_PASSWORD) + str(
            extra.get("security_token") or DEFAULT_SECURITY_TOKEN
        )
        user_ok = secrets.compare_digest(request.username.encode(), self.username.encode())
        password_ok = secrets.compare_digest(request.password.encode(), expected.encode())
        org_ok = request.organization_id is None or (
            request.organization_id[:15] == self.org_id[:15]
        )
        return user_ok and password_ok and org_ok

    async def login(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        version = request.match_info["version"]
        sandbox = self.sandbox
        record: dict[str, Any] = {"at": time.time(), "grant_type": "soap_login", "client_id": None}
        try:
            login = soap.parse_login(await request.read())
        except soap.SoapError as exc:
            record["outcome"] = "malformed"
            sandbox.token_calls.append(record)
            return web.Response(
                text=soap.client_fault(str(exc)), status=500, content_type="text/xml"
            )
        record["username"] = login.username
        if not self._credentials_ok(login):
            record["outcome"] = "INVALID_LOGIN"
            sandbox.token_calls.append(record)
            self.logins.append({"at": record["at"], "username": login.username, "ok": False})
            body = soap.login_fault("INVALID_LOGIN", soap.INVALID_LOGIN, kind=kind)
            return web.Response(text=body, status=500, content_type="text/xml")
        session = sandbox.tokens.issue(
            kind="access",
            family=sandbox.tokens.new_family(),
            client_id=f"soap:{login.username}",
            account=self.org_id,
            scope="api",
            ttl=self.options.access_ttl,
            subject={
                "user_id": INTEGRATION_USER_ID,
                "username": login.username,
                "name": "Nexiom Integration",
            },
        )
        record.update(outcome="ok", issued={"access": fingerprint(session.value)})
        sandbox.token_calls.append(record)
        self.logins.append({"at": record["at"], "username": login.username, "ok": True})
        body = soap.login_response(
            kind=kind,
            version=version,
            base_url=sandbox.base_url(request),
            session_id=session.value,
            session_seconds=int(self.options.access_ttl),
            user_id=INTEGRATION_USER_ID,
            org_id=self.org_id,
            org_name="Demo Freight (Revenova sandbox)",
            username=login.username,
            full_name="Nexiom Integration",
        )
        return web.Response(text=body, content_type="text/xml")

    def state(self) -> dict[str, Any]:
        return {**super().state(), "username": self.username, "logins": self.logins}


def create_app(**options: Any) -> web.Application:
    """The Revenova sandbox app; ``options`` override ``DEFAULTS``, plus ``username``,
    ``password``, ``security_token``, ``org_id`` and ``rotate_refresh_tokens``."""
    return create_sandbox_app(RevenovaSandbox(platform_options(DEFAULTS, options)))
