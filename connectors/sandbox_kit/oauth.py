"""The sandbox's OAuth 2.0 authorization server: consent page, token and revoke endpoints.

Imitates the authorization-code flow of Intuit and Salesforce closely enough
for Nexiom's OAuth callback and refresh logic to be tested against it: codes
are single-use and bound to their client, redirect URI and PKCE challenge;
refresh tokens follow the provider's rotation rule; revoking kills the family.
It does not imitate OpenID Connect (no ``id_token``), user sign-in (the consent
page has no login step), or per-client registered redirect URIs (a prefix
rule stands in for them).
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web
from yarl import URL

from .provider import json_response
from .tokens import OAuthError, Token, fingerprint

if TYPE_CHECKING:
    from multidict import MultiDictProxy

    from .app import Sandbox

LOOPBACK_CALLBACK = re.compile(r"^http://(localhost|127\.0\.0\.1)(:\d{1,5})?/api/callback/")
AUTHORIZE_PARAMS = (
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)

CONSENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;color:#222}}
button{{font-size:1rem;padding:.5rem 1.2rem;margin-right:.6rem}}
#approve{{background:#2e7d32;color:#fff}}
dt{{font-weight:600}}small{{color:#666}}</style></head>
<body><h1>{title}</h1>
<p><strong>{client}</strong> asks to access your {provider} data.</p>
<dl><dt>Scope</dt><dd>{scope}</dd><dt>Returns to</dt><dd>{redirect}</dd>{details}</dl>
<form method="post" action="{action}">{hidden}
<button type="submit" id="approve" name="decision" value="approve">Approve</button>
<button type="submit" id="deny" name="decision" value="deny">Deny</button>
</form>
<p><small>A local sandbox of {provider}, not the real service.</small></p>
</body></html>
"""


def _error_page(message: str, status: int = 400) -> web.Response:
    text = (
        "<!doctype html><html><head><title>Authorization error</title></head>"
        f"<body><h1>Authorization error</h1><p>{html.escape(message)}</p></body></html>"
    )
    return web.Response(text=text, status=status, content_type="text/html")


def _redirect(uri: str, params: dict[str, str]) -> web.Response:
    location = str(URL(uri).update_query(params))
    return web.Response(status=302, headers={"Location": location})


class OAuthServer:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.provider = sandbox.provider
        self.options = sandbox.options

    def add_routes(self, app: web.Application) -> None:
        p = self.provider
        self.sandbox.add_route(app, "GET", p.authorize_path, self.authorize_page, api=False)
        self.sandbox.add_route(app, "POST", p.authorize_path, self.authorize_decide, api=False)
        self.sandbox.add_route(app, "POST", p.token_path, self.token, api=False)
        self.sandbox.add_route(app, "POST", p.revoke_path, self.revoke, api=False)

    # --- /authorize --------------------------------------------------------------

    def redirect_uri_allowed(self, uri: str) -> bool:
        prefixes = self.options.redirect_uri_prefixes
        if prefixes:
            return any(uri.startswith(prefix) for prefix in prefixes)
        return bool(LOOPBACK_CALLBACK.match(uri))

    def _check(self, params: MultiDictProxy[Any] | dict[str, Any]) -> web.Response | None:
        """None when the request may reach the consent page, else the answer to give.

        An unknown client or a redirect URI that is not allowed is answered on
        the sandbox itself (never redirect to an unvetted URI, RFC 6749 4.1.2.1);
        other errors go back to the client's redirect URI.
        """
        client_id = params.get("client_id") or ""
        redirect_uri = params.get("redirect_uri") or ""
        if not secrets.compare_digest(client_id.encode(), self.options.client_id.encode()):
            return _error_page("Unknown client_id.")
        if not redirect_uri or not self.redirect_uri_allowed(redirect_uri):
            return _error_page("redirect_uri is not registered for this client.")
        state = params.get("state") or ""
        if params.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method") or "S256"
        if challenge and method != "S256":
            return _redirect(
                redirect_uri,
                {
                    "error": "invalid_request",
                    "error_description": "only code_challenge_method=S256 is supported",
                    "state": state,
                },
            )
        if self.provider.pkce_required and not challenge:
            return _redirect(
                redirect_uri,
                {
                    "error": "invalid_request",
                    "error_description": "missing required code challenge.",
                    "state": state,
                },
            )
        return None

    async def authorize_page(self, request: web.Request) -> web.Response:
        params = request.query
        refusal = self._check(params)
        if refusal is not None:
            return refusal
        provider = self.provider
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
            for name in AUTHORIZE_PARAMS
            if name in params
        )
        details = "".join(
            f"<dt>{html.escape(label)}</dt><dd>{html.escape(value)}</dd>"
            for label, value in (
                line.split(": ", 1)
                for line in provider.consent_details(client_id=params["client_id"])
            )
        )
        page = CONSENT_PAGE.format(
            title=html.escape(f"{provider.display_name} sandbox — authorize Nexiom"),
            client=html.escape(params["client_id"]),
            provider=html.escape(provider.display_name),
            scope=html.escape(params.get("scope", "") or "(default)"),
            redirect=html.escape(URL(params["redirect_uri"]).origin().human_repr()),
            details=details,
            action=html.escape(provider.authorize_path),
            hidden=hidden,
        )
        return web.Response(text=page, content_type="text/html")

    async def authorize_decide(self, request: web.Request) -> web.Response:
        form = await request.post()
        refusal = self._check(form)
        if refusal is not None:
            return refusal
        client_id = str(form["client_id"])
        redirect_uri = str(form["redirect_uri"])
        state = str(form.get("state", ""))
        scope = str(form.get("scope", ""))
        decision = form.get("decision")
        record: dict[str, Any] = {"at": time.time(), "client_id": client_id, "scope": scope}
        if decision != "approve":
            record["decision"] = "deny"
            self.sandbox.authorizations.append(record)
            return _redirect(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "end-user denied authorization",
                    "state": state,
                },
            )
        grant = self.provider.approve(client_id=client_id, scope=scope)
        code = self.sandbox.tokens.code_issue(
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            account=grant.account,
            subject=grant.subject,
            code_challenge=str(form["code_challenge"]) if form.get("code_challenge") else None,
        )
        record.update(decision="approve", account=grant.account, code=fingerprint(code))
        self.sandbox.authorizations.append(record)
        return _redirect(redirect_uri, {"code": code, "state": state, **grant.callback_params})

    # --- /token ----------------------------------------------------------------------

    def client_authenticate(self, request: web.Request, form: Any) -> str:
        """The client id, from HTTP Basic or the ``client_id``/``client_secret`` form
        fields (Q4, S7); ``OAuthError("invalid_client")`` otherwise."""
        header = request.headers.get("Authorization", "")
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError("invalid_client", "malformed Basic credentials") from None
            client_id, _, client_secret = decoded.partition(":")
            client_id, client_secret = unquote(client_id), unquote(client_secret)
        else:
            client_id = str(form.get("client_id", ""))
            client_secret = str(form.get("client_secret", ""))
        ok_id = secrets.compare_digest(client_id.encode(), self.options.client_id.encode())
        ok_secret = secrets.compare_digest(
            client_secret.encode(), self.options.client_secret.encode()
        )
        if not (ok_id and ok_secret):
            raise OAuthError("invalid_client", "invalid client credentials")
        return client_id

    async def token(self, request: web.Request) -> web.Response:
        sandbox = self.sandbox
        form = await request.post()
        grant_type = str(form.get("grant_type", ""))
        call: dict[str, Any] = {"at": time.time(), "grant_type": grant_type, "client_id": None}
        try:
            client_id = self.client_authenticate(request, form)
            call["client_id"] = client_id
            if grant_type == "authorization_code":
                call["presented"] = fingerprint(str(form.get("code", "")))
                access, refresh = self._exchange_code(form, client_id)
            elif grant_type == "refresh_token":
                call["presented"] = fingerprint(str(form.get("refresh_token", "")))
                access, refresh = self._refresh(form, client_id)
            else:
                raise OAuthError("unsupported_grant_type")
        except OAuthError as exc:
            call["outcome"] = exc.error
            sandbox.token_calls.append(call)
            status = 401 if exc.error == "invalid_client" else 400
            headers = {"WWW-Authenticate": 'Basic realm="sandbox"'} if status == 401 else None
            return json_response(exc.body(), status=status, headers=headers)
        call["outcome"] = "ok"
        call["issued"] = {"access": fingerprint(access.value)}
        if refresh is not None:
            call["issued"]["refresh"] = fingerprint(refresh.value)
        sandbox.token_calls.append(call)
        body = self.provider.token_body(
            request=request, sandbox=sandbox, access=access, refresh=refresh
        )
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        headers.update(self.provider.token_headers())
        return json_response(body, headers=headers)

    def _exchange_code(self, form: Any, client_id: str) -> tuple[Token, Token | None]:
        code = str(form.get("code", ""))
        redirect_uri = str(form.get("redirect_uri", ""))
        if not code:
            raise OAuthError("invalid_request", "code is missing")
        verifier = form.get("code_verifier")
        grant = self.sandbox.tokens.code_redeem(
            code=code,
            client_id=client_id,
            redirect_uri=redirect_uri,
            code_verifier=str(verifier) if verifier else None,
            pkce_mismatch_error=self.provider.pkce_mismatch_error,
        )
        tokens = self.sandbox.tokens
        family = tokens.new_family()
        common = {
            "family": family,
            "client_id": client_id,
            "account": grant.account,
            "scope": grant.scope,
            "subject": grant.subject,
        }
        access = tokens.issue(kind="access", ttl=self.options.access_ttl, **common)
        refresh = None
        if self.provider.issues_refresh_token(grant.scope):
            refresh = tokens.issue(kind="refresh", ttl=self.options.refresh_ttl, **common)
        return access, refresh

    def _refresh(self, form: Any, client_id: str) -> tuple[Token, Token | None]:
        value = str(form.get("refresh_token", ""))
        if not value:
            raise OAuthError("invalid_request", "refresh_token is missing")
        tokens = self.sandbox.tokens
        try:
            old = tokens.refresh_use(
                value=value, client_id=client_id, rotation=self.options.rotation
            )
        except OAuthError as exc:
            raise OAuthError(exc.error, self.provider.invalid_refresh_description) from None
        common = {
            "family": old.family,
            "client_id": client_id,
            "account": old.account,
            "scope": old.scope,
            "subject": old.subject,
        }
        access = tokens.issue(kind="access", ttl=self.options.access_ttl, **common)
        refresh = None
        if self.options.rotation.rotate:
            # A rolling lifetime: each new refresh token gets the full window again (Q14).
            refresh = tokens.issue(kind="refresh", ttl=self.options.refresh_ttl, **common)
        return access, refresh

    # --- /revoke ---------------------------------------------------------------------

    async def revoke(self, request: web.Request) -> web.Response:
        provider = self.provider
        call: dict[str, Any] = {"at": time.time(), "grant_type": "revoke", "client_id": None}
        value = ""
        try:
            if provider.revoke_format == "json":
                # Intuit: JSON {"token": ...} with the Basic header (Q11).
                try:
                    data = await request.json()
                except ValueError:
                    data = None
                if not isinstance(data, dict):
                    raise OAuthError("invalid_request", "expected a JSON body with a token")
                value = str(data.get("token") or "")
                form: Any = {}
            else:
                form = await request.post()  # Salesforce: form token=... (S8)
                value = str(form.get("token", ""))
            if provider.revoke_requires_client_auth or request.headers.get("Authorization"):
                call["client_id"] = self.client_authenticate(request, form)
            if not value:
                raise OAuthError("invalid_request", "token is missing")
        except OAuthError as exc:
            call["outcome"] = exc.error
            self.sandbox.token_calls.append(call)
            return json_response(exc.body(), status=401 if exc.error == "invalid_client" else 400)
        call["presented"] = fingerprint(value)
        known = self.sandbox.tokens.revoke_family(value)
        call["outcome"] = "revoked" if known else "unknown_token"
        self.sandbox.token_calls.append(call)
        if not known and provider.revoke_unknown_status != 200:
            return json_response({"error": "invalid_token"}, status=provider.revoke_unknown_status)
        return web.Response(status=200)
