"""Options shared by every sandbox: client credentials, lifetimes, limits, rotation rules.

Plain data, so a test or the CLI can say exactly how a sandbox should behave.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RotationRule:
    """What a ``grant_type=refresh_token`` call does with the refresh token it was given.

    ``rotate``: the response carries a new refresh token (QuickBooks always, Q15;
    Salesforce only with rotation on, S7). ``grace_seconds``: how long the
    replaced refresh token keeps working after it was first replaced (QuickBooks
    about 24 h, Q15; Salesforce 0: a rotated token is dead at once, S7).
    """

    rotate: bool
    grace_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class SandboxOptions:
    """How one sandbox process behaves; every field has a CLI flag (see ``cli.py``).

    ``rate_limit`` is requests per ``rate_window`` seconds per account (QuickBooks
    realm, Salesforce org), ``None`` turns the bucket off; ``concurrency`` caps
    requests in flight per account, ``None`` turns that off. ``redirect_uri_prefixes``
    empty means the default rule: any ``http://localhost:<port>/api/callback/`` or
    ``http://127.0.0.1:<port>/api/callback/`` URI. ``latency_ms`` delays every API
    answer (demos of slow providers, and the only way a single-process server
    has requests in flight long enough for the concurrency cap to matter).
    ``public_url`` is what the sandbox calls itself in token responses
    (Salesforce ``instance_url``); by default the ``Host`` the client used.
    """

    client_id: str
    client_secret: str
    access_ttl: float = 3600.0
    refresh_ttl: float | None = None
    rotation: RotationRule = RotationRule(rotate=False)
    rate_limit: int | None = None
    rate_window: float = 60.0
    concurrency: int | None = None
    redirect_uri_prefixes: tuple[str, ...] = ()
    latency_ms: float = 0.0
    public_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> SandboxOptions:
        """A copy with ``changes``; unknown keys go to ``extra`` (provider-specific options)."""
        known = {f.name for f in dataclasses.fields(self)}
        extra = dict(self.extra)
        direct: dict[str, Any] = {}
        for key, value in changes.items():
            if key in known and key != "extra":
                direct[key] = value
            else:
                extra[key] = value
        if isinstance(direct.get("redirect_uri_prefixes"), list):
            direct["redirect_uri_prefixes"] = tuple(direct["redirect_uri_prefixes"])
        return dataclasses.replace(self, **direct, extra=extra)

    def public(self) -> dict[str, Any]:
        """The options as JSON for ``/__sandbox__/state``, without the client secret."""
        data = dataclasses.asdict(self)
        data.pop("client_secret")
        data["redirect_uri_prefixes"] = list(self.redirect_uri_prefixes) or ["<loopback default>"]
        return data
