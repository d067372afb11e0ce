"""Personal API tokens: shown once, stored hashed, expiring, revocable, per tenant."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.errors import TokenError, TokenRejected
from accounts.models import ApiToken, User

TOKEN_PREFIX = "nxm_"  # noqa: S105 - a marker, not a secret
# Writing last_used_at on every request would turn reads into writes.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    plaintext: str  # shown to the user once, never stored


def _hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def api_token_create(*, user: User, name: str, expires_in_days: int | None = None) -> CreatedToken:
    name = (name or "").strip()
    if not name:
        message = "Give the token a name, so you can recognise it later."
        raise TokenError(message, fields={"name": [message]})
    days = settings.NEXIOM_API_TOKEN_DEFAULT_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= settings.NEXIOM_API_TOKEN_MAX_DAYS:
        message = f"A token lives between 1 and {settings.NEXIOM_API_TOKEN_MAX_DAYS} days."
        raise TokenError(message, fields={"expires_in_days": [message]})
    if not user.is_active:
        raise TokenError("An inactive user cannot create tokens.")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=plaintext[: len(TOKEN_PREFIX) + 6],
        token_hash=_hash(plaintext),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return CreatedToken(token=token, plaintext=plaintext)


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, plaintext: str) -> ApiToken:
    """The live token behind a bearer value, or TokenRejected (one message for every failure)."""
    if not plaintext.startswith(TOKEN_PREFIX):
        raise TokenRejected()
    token = ApiToken.objects.select_related("user").filter(token_hash=_hash(plaintext)).first()
    if token is None or token.status != ApiToken.Status.ACTIVE or not token.user.is_active:
        raise TokenRejected()
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
