"""When the health sweeper looks at a connection next: before expiry, spread by a jitter.

The jitter is derived from the connection's identity, not drawn at random,
so ten thousand connections that expire together are refreshed across the
whole window, and a connection's slot is stable from one sweep to the next.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.db import connection as db_connection
from django.utils import timezone

from connectors.models import Connection
from connectors.sdk.credentials import OAuth2

#: Spread refreshes (and tests) over this window.
JITTER_WINDOW = timedelta(minutes=5)
#: Connections without an expiry (Salesforce, API keys) are checked this often; an OAuth2
#: one is refreshed at that pace too, which keeps an idle refresh token alive.
CHECK_INTERVAL = timedelta(hours=6)
#: After a transient failure: 1, 2, 4 ... minutes, at most an hour.
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
#: The sweep claims due rows by moving ``next_check_at`` this far out, so the next
#: minute's sweep does not pick them again while they wait in the queue; a check
#: that dies with its worker is picked up again once the claim runs out. Shorter
#: than the refresh margin, so a lost claim still refreshes before expiry.
CLAIM_LEASE = timedelta(minutes=5)


def jitter_for(connection: Connection) -> timedelta:
    key = f"{db_connection.schema_name}:{connection.pk}".encode()
    fraction = int.from_bytes(hashlib.sha256(key).digest()[:4], "big") / 2**32
    return JITTER_WINDOW * fraction


def next_check_for(*, connection: Connection, credential, now: datetime | None = None) -> datetime:
    """The next time the sweeper should refresh or test this connection."""
    now = now or timezone.now()
    jitter = jitter_for(connection)
    expires = connection.access_expires_at
    if isinstance(credential, OAuth2) and expires is not None:
        due = expires - credential.refresh_margin - jitter
        return max(due, now + timedelta(seconds=30))
    return now + CHECK_INTERVAL - jitter


def backoff_after(*, failures: int, now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    delay = min(BACKOFF_BASE * (2 ** max(0, failures - 1)), BACKOFF_MAX)
    return now + delay
