"""Credential types: data plus a few hooks, on two generic parents, ``OAuth2`` and ``ApiKey``.

A connector pins URLs, scopes and quirks as class attributes; the parents do
the protocol work. The engine (``connectors.services``) calls these hooks and
keeps what they return in the vault; connector code never sees the secrets:

- ``authenticate(session, secrets)`` puts the credential on an outgoing session;
- ``pre_authenticate(http, urls, secrets)`` (API keys) exchanges key material for a
  session, whose values are kept beside the key;
- ``is_expired(response)`` says whether a failed call means "refresh and retry";
- OAuth2 only: the authorize URL, the code exchange, the refresh with its rotation
  rule, revocation, and which values to capture from the callback query and the
  token response (QuickBooks ``realmId``, Salesforce ``instance_url``).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import secrets as random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import requests

from connectors.errors import NeedsReauth, Permanent, Transient

Secrets = dict[str, Any]


@dataclass(frozen=True)
class Field:
    """One value a person types to connect (API-key credentials) or that the engine keeps."""

    name: str
    label: str
    secret: bool = False
    required: bool = True
    example: str = ""
    help: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "secret": self.secret,
            "required": self.required,
            "example": self.example,
            "help": self.help,
        }


@dataclass(frozen=True)
class AppCredentials:
    """Nexiom's own registration at the provider (client id and secret), from settings."""

    client_id: str
    client_secret: str = field(repr=False)


class RefreshRotation(enum.StrEnum):
    """What a refresh answers with, and so what the engine must keep."""

    #: Every refresh returns a new refresh token; keep the newest (QuickBooks, Q15).
    ALWAYS = "always"
    #: Usually none comes back: keep the old one; if one comes, it replaces it (Salesforce, S7).
    WHEN_RETURNED = "when_returned"


class CredentialType:
    """Base of every credential type."""

    kind: ClassVar[str] = ""
    #: Fields a person fills in to connect (API keys); OAuth2 asks for none.
    fields: ClassVar[tuple[Field, ...]] = ()
    #: A response with one of these statuses means "the credential expired".
    expired_statuses: ClassVar[tuple[int, ...]] = (401,)
    #: Refresh this long before the access token expires (plus the sweeper's jitter).
    refresh_margin: ClassVar[timedelta] = timedelta(minutes=10)

    def is_expired(self, response: requests.Response) -> bool:
        """Whether a failed call means the access credential expired (refresh, retry once)."""
        return response.status_code in self.expired_statuses

    def authenticate(self, session: requests.Session, secrets: Secrets) -> None:
        """Put the credential on the session that calls the provider."""
        raise NotImplementedError

    def field_names(self, *, secret: bool | None = None) -> list[str]:
        return [f.name for f in self.fields if secret is None or f.secret == secret]

    def describe(self) -> dict[str, Any]:
        """What a UI needs to draw the connect form."""
        return {"kind": self.kind, "fields": [f.as_dict() for f in self.fields]}


def _pkce_pair() -> tuple[str, str]:
    verifier = random.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class OAuth2(CredentialType):
    """The authorization-code flow, refresh with a rotation rule, revocation."""

    kind = "oauth2"
    scopes: ClassVar[tuple[str, ...]] = ()
    #: Send a PKCE S256 challenge (the provider supports it).
    pkce: ClassVar[bool] = False
    #: How the client authenticates at the token endpoint: "basic" or "post".
    client_auth: ClassVar[str] = "basic"
    rotation: ClassVar[RefreshRotation] = RefreshRotation.ALWAYS
    #: Query parameters of the callback kept as connection metadata (QuickBooks: realmId).
    callback_metadata: ClassVar[tuple[str, ...]] = ()
    #: Token-response fields kept as connection metadata (Salesforce: instance_url, id).
    token_metadata: ClassVar[tuple[str, ...]] = ()
    #: Extra headers of every token request.
    token_headers: ClassVar[Mapping[str, str]] = {}
    timeout: ClassVar[float] = 20.0

    def authenticate(self, session: requests.Session, secrets: Secrets) -> None:
        session.headers["Authorization"] = f"Bearer {secrets['access_token']}"

    def pkce_pair(self) -> tuple[str, str] | None:
        return _pkce_pair() if self.pkce else None

    def authorize_url(
        self,
        *,
        urls: Mapping[str, str],
        app: AppCredentials,
        redirect_uri: str,
        state: str,
        code_challenge: str | None,
    ) -> str:
        params = {
            "client_id": app.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.scopes),
            "state": state,
        }
        if code_challenge:
            params["code_challenge"] = code_challenge
            params["code_challenge_method"] = "S256"
        return f"{urls['authorize']}?{urlencode(params)}"

    def exchange_code(
        self,
        *,
        http: requests.Session,
        urls: Mapping[str, str],
        app: AppCredentials,
        code: str,
        redirect_uri: str,
        code_verifier: str | None,
    ) -> dict[str, Any]:
        """The token response of a code exchange, validated (an error body is not a token set)."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        return self._token_call(http=http, urls=urls, app=app, form=form)

    def refresh(
        self, *, http: requests.Session, urls: Mapping[str, str], app: AppCredentials, secrets
    ) -> dict[str, Any]:
        refresh_token = secrets.get("refresh_token")
        if not refresh_token:
            raise NeedsReauth("The connection has no refresh token; reconnect it.")
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._token_call(http=http, urls=urls, app=app, form=form)

    def revoke(
        self, *, http: requests.Session, urls: Mapping[str, str], app: AppCredentials, secrets
    ) -> None:
        """Revoke the token family at the provider; the default sends a form ``token=``."""
        token = secrets.get("refresh_token") or secrets.get("access_token")
        if not token or "revoke" not in urls:
            return
        response = self._post(http, urls["revoke"], app=app, form={"token": token})
        if response.status_code >= 500:
            raise Transient(
                f"Revoking at {urls['revoke']} failed with HTTP {response.status_code}."
            )

    def secrets_from_token(self, token: Mapping[str, Any], *, previous: Secrets | None) -> Secrets:
        """What to keep sealed after a token response, by the rotation rule."""
        kept = dict(previous or {})
        kept["access_token"] = token["access_token"]
        # Whatever the rotation rule, a refresh token that comes back replaces the old one;
        # none coming back keeps the old one (Salesforce, S7; QuickBooks' previous one stays
        # valid for a while, Q15).
        if token.get("refresh_token"):
            kept["refresh_token"] = token["refresh_token"]
        for name in ("id_token", "scope", "token_type"):
            if name in token:
                kept[name] = token[name]
        return kept

    def expires_at(self, token: Mapping[str, Any], *, now: datetime) -> datetime | None:
        """When the access token expires, if the provider says (``expires_in``)."""
        seconds = token.get("expires_in")
        try:
            return now + timedelta(seconds=int(seconds)) if seconds is not None else None
        except (TypeError, ValueError):
            return None

    def metadata_from(
        self, *, callback: Mapping[str, str], token: Mapping[str, Any]
    ) -> dict[str, str]:
        """Provider quirks kept on the connection (not secret): realm id, instance URL."""
        found = {name: str(callback[name]) for name in self.callback_metadata if callback.get(name)}
        found.update({name: str(token[name]) for name in self.token_metadata if token.get(name)})
        return found

    # --- token endpoint -------------------------------------------------------------

    def _post(self, http, url: str, *, app: AppCredentials, form: dict) -> requests.Response:
        headers = {"Accept": "application/json", **self.token_headers}
        auth = None
        if self.client_auth == "basic":
            auth = (app.client_id, app.client_secret)
        else:
            form = {**form, "client_id": app.client_id, "client_secret": app.client_secret}
        try:
            return http.post(url, data=form, headers=headers, auth=auth, timeout=self.timeout)
        except requests.RequestException as exc:
            raise Transient(f"The token endpoint {url} could not be reached.") from exc

    def _token_call(self, *, http, urls, app, form: dict) -> dict[str, Any]:
        response = self._post(http, urls["token"], app=app, form=form)
        body = _json_or_none(response)
        error = body.get("error") if isinstance(body, dict) else None
        if response.status_code >= 500:
            raise Transient(f"The token endpoint answered HTTP {response.status_code}.")
        if error in ("invalid_grant", "unauthorized_client") or (
            response.status_code == 400 and form["grant_type"] == "refresh_token"
        ):
            raise NeedsReauth(
                f"The provider refused the {form['grant_type'].replace('_', ' ')} "
                f"({error or response.status_code}); reconnect the connection."
            )
        if response.status_code != 200 or error:
            raise Permanent(
                f"The token endpoint refused the request: {error or response.status_code}.",
                provider_code=str(error or response.status_code),
            )
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise Permanent(
                "The token endpoint answered without an access token.", provider_code="no_token"
            )
        if str(body.get("token_type", "bearer")).lower() != "bearer":
            raise Permanent(
                f"Unsupported token type {body.get('token_type')!r}.", provider_code="token_type"
            )
        return body


class ApiKey(CredentialType):
    """Key material a person types in; optionally exchanged for a session (``pre_authenticate``)."""

    kind = "api_key"
    #: The secret values that ``pre_authenticate`` returns and ``authenticate`` uses.
    session_fields: ClassVar[tuple[str, ...]] = ()

    def pre_authenticate(
        self, *, http: requests.Session, urls: Mapping[str, str], secrets: Secrets
    ) -> Secrets | None:
        """Exchange the key for a session; None when the key is used as it is."""
        return None

    def authenticate(self, session: requests.Session, secrets: Secrets) -> None:
        raise NotImplementedError

    def validate(self, values: Mapping[str, Any]) -> dict[str, list[str]]:
        """Per-field problems of what a person typed (empty when all is well)."""
        problems: dict[str, list[str]] = {}
        for spec in self.fields:
            value = values.get(spec.name)
            if spec.required and (not isinstance(value, str) or not value.strip()):
                problems[spec.name] = ["This field is required."]
            elif value is not None and not isinstance(value, str):
                problems[spec.name] = ["Must be text."]
            elif isinstance(value, str) and len(value) > 1000:
                problems[spec.name] = ["At most 1000 characters."]
        unknown = set(values) - {f.name for f in self.fields}
        for name in sorted(unknown):
            problems[name] = ["Not a field of this connector."]
        return problems
