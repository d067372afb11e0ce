"""In-memory OAuth state: authorization codes, token families, refresh rotation.

A *family* is everything issued from one authorization (one code exchange, or
one SOAP login): its access tokens and its chain of refresh tokens. Revoking
any member kills the whole family, as Intuit and Salesforce do (Q11, S8).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .options import RotationRule

CODE_TTL = 600.0  # seconds an authorization code may wait for its exchange


def fingerprint(value: str | None) -> str | None:
    """What the state endpoint shows instead of a token: its first 6 characters."""
    return None if not value else value[:6] + "…"


def pkce_s256(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without padding (RFC 7636; S3)."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(slots=True)
class Token:
    value: str
    kind: str  # "access" or "refresh"
    family: str
    client_id: str
    account: str  # the provider's tenant: QuickBooks realm id, Salesforce org id
    scope: str
    issued_at: float
    expires_at: float | None
    subject: dict[str, Any] = field(default_factory=dict)
    revoked: bool = False
    superseded_at: float | None = None  # refresh tokens: when a newer one replaced it

    def alive(self, now: float) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


@dataclass(slots=True)
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    account: str
    subject: dict[str, Any]
    code_challenge: str | None
    expires_at: float
    used: bool = False


class OAuthError(Exception):
    """A refused token request: ``error`` and ``description`` go into the 400 body."""

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


class TokenStore:
    """Codes and tokens of one sandbox, in plain dicts (nothing touches the disk)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.codes: dict[str, AuthCode] = {}
        self.tokens: dict[str, Token] = {}
        self.families: dict[str, list[str]] = {}
        self.issued: Counter[str] = Counter()
        self.revoked: Counter[str] = Counter()

    # --- authorization codes -------------------------------------------------

    def code_issue(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        scope: str,
        account: str,
        subject: dict[str, Any],
        code_challenge: str | None,
    ) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthCode(
            code=code,
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            account=account,
            subject=subject,
            code_challenge=code_challenge,
            expires_at=self.clock() + CODE_TTL,
        )
        self.issued["code"] += 1
        return code

    def code_redeem(
        self,
        *,
        code: str,
        client_id: str,
        redirect_uri: str,
        code_verifier: str | None,
        pkce_mismatch_error: str,
    ) -> AuthCode:
        """The code's grant, marked used; ``OAuthError`` when it is unknown, used,
        expired, someone else's, sent with another redirect_uri, or its PKCE
        verifier does not match the challenge sent to ``/authorize``."""
        grant = self.codes.get(code)
        if grant is None or grant.used or grant.expires_at <= self.clock():
            raise OAuthError("invalid_grant", "authorization code is invalid, expired or used")
        if grant.client_id != client_id or grant.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri or client does not match the code")
        if grant.code_challenge is not None:
            if not code_verifier:
                raise OAuthError("invalid_grant", "code_verifier is missing")  # S3
            if not secrets.compare_digest(pkce_s256(code_verifier), grant.code_challenge):
                raise OAuthError(pkce_mismatch_error, "invalid code verifier")
        grant.used = True
        return grant

    # --- tokens ---------------------------------------------------------------

    def issue(
        self,
        *,
        kind: str,
        family: str,
        client_id: str,
        account: str,
        scope: str,
        ttl: float | None,
        subject: dict[str, Any] | None = None,
    ) -> Token:
        now = self.clock()
        token = Token(
            value=secrets.token_urlsafe(32),
            kind=kind,
            family=family,
            client_id=client_id,
            account=account,
            scope=scope,
            issued_at=now,
            expires_at=None if ttl is None else now + ttl,
            subject=subject or {},
        )
        self.tokens[token.value] = token
        self.families.setdefault(family, []).append(token.value)
        self.issued[kind] += 1
        return token

    @staticmethod
    def new_family() -> str:
        return secrets.token_hex(8)

    def access_get(self, value: str) -> Token | None:
        """The live access token with this value, or None (unknown, expired, revoked)."""
        token = self.tokens.get(value)
        if token is None or token.kind != "access" or not token.alive(self.clock()):
            return None
        return token

    def refresh_use(self, *, value: str, client_id: str, rotation: RotationRule) -> Token:
        """The refresh token, checked against the rotation rule; ``OAuthError`` if refused.

        A replaced token still works during ``rotation.grace_seconds`` after it
        was *first* replaced (Q15: "previous refresh tokens expire 24 hours after
        you receive a new one"); using it again does not extend that.
        """
        now = self.clock()
        token = self.tokens.get(value)
        if token is None or token.kind != "refresh" or token.client_id != client_id:
            raise OAuthError("invalid_grant")
        if not token.alive(now):
            raise OAuthError("invalid_grant")
        if token.superseded_at is not None and now - token.superseded_at >= rotation.grace_seconds:
            raise OAuthError("invalid_grant")
        if rotation.rotate and token.superseded_at is None:
            token.superseded_at = now
        return token

    def revoke_family(self, value: str) -> bool:
        """Revoke every token issued with this one; False when the token is unknown."""
        token = self.tokens.get(value)
        if token is None:
            return False
        for member in self.families.get(token.family, ()):
            other = self.tokens[member]
            if not other.revoked:
                other.revoked = True
                self.revoked[other.kind] += 1
        return True

    def expire_access(self, value: str | None = None) -> int:
        """Expire one access token (by value) or all of them now; the number expired."""
        now = self.clock()
        targets = [self.tokens.get(value)] if value is not None else list(self.tokens.values())
        count = 0
        for token in targets:
            if token is not None and token.kind == "access" and token.alive(now):
                token.expires_at = now - 1
                count += 1
        return count

    def summary(self) -> dict[str, Any]:
        now = self.clock()
        alive = Counter(t.kind for t in self.tokens.values() if t.alive(now))
        return {
            "issued": {
                "code": self.issued["code"],
                **{k: self.issued[k] for k in ("access", "refresh")},
            },
            "revoked": {k: self.revoked[k] for k in ("access", "refresh")},
            "alive": {k: alive[k] for k in ("access", "refresh")},
            "families": len(self.families),
        }
