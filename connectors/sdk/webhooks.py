"""Standard Webhooks: verify a sender that signs the way standardwebhooks.com specifies.

Headers ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
``webhook-signature``: a space-separated list of ``v1,<base64 signature>``,
where the signature is HMAC-SHA256 of ``"<id>.<timestamp>.<raw body>"`` keyed
with the secret's bytes (a secret is ``whsec_<base64 of the key>``). A
delivery outside the timestamp window (default 5 minutes either way) is
refused, so a captured request cannot be replayed later. Several secrets
are accepted at once, for rotation (DESIGN.md, "Reliability rules"); every
comparison is constant-time.

``standard_webhook_verify`` raises ``SenderRefused`` (403) with the reason;
``StandardWebhooks().verify`` is the ``Webhooks`` protocol's boolean form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

from connectors.errors import SenderRefused

TOLERANCE_SECONDS = 5 * 60
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def secret_key(secret: str) -> bytes:
    """The key bytes of a ``whsec_<base64>`` secret (the prefix is optional)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a Standard Webhooks secret is whsec_ followed by base64") from None


def standard_webhook_sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one delivery (the sender's side, for tests and demos)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def standard_webhook_verify(
    headers: Mapping[str, str],
    raw_body: bytes,
    secrets: list[str],
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Refuse (``SenderRefused``) unless one ``v1`` signature matches one secret in time."""
    msg_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not (msg_id and stamp and signatures):
        raise SenderRefused("The webhook-id, webhook-timestamp or webhook-signature is missing.")
    try:
        timestamp = int(stamp.strip())
    except ValueError:
        raise SenderRefused("The webhook-timestamp is not a number of seconds.") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SenderRefused(
            f"The webhook-timestamp is {int(current - timestamp)} s away from now; "
            f"at most {tolerance} s are accepted."
        )
    sent = []
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version != "v1":
            continue
        try:
            sent.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not sent or not secrets:
        raise SenderRefused("The webhook carries no v1 signature to check.")
    signed = f"{msg_id}.{timestamp}.".encode() + raw_body
    matched = False
    for secret in secrets:
        expected = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
        for signature in sent:
            matched |= hmac.compare_digest(expected, signature)
    if not matched:
        raise SenderRefused("No webhook signature matches this connection's secrets.")


class StandardWebhooks:
    """A ``Webhooks.verify`` for any connector whose sender signs the Standard Webhooks way."""

    def __init__(self, *, tolerance: int = TOLERANCE_SECONDS) -> None:
        self.tolerance = tolerance

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secrets: list[str]) -> bool:
        try:
            standard_webhook_verify(headers, raw_body, secrets, tolerance=self.tolerance)
        except SenderRefused:
            return False
        return True
