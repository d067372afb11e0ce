"""The authenticated HTTP client a connector receives, and the one map of HTTP failures.

The engine builds a ``Client`` per use: a ``requests`` session on this
process's shared connection pool, with the credential already applied, a
base URL and timeouts. Connector code calls ``get``/``post``/``request`` and
gets a response or one of four domain errors:

====================================  ==============================================
what happened                         raised
====================================  ==============================================
the credential expired                refreshed once (``reauthenticate``), retried once;
                                      still refused → ``NeedsReauth``
429 (or the connector says throttled)  ``RateLimited(retry_after)``
timeout, connection error, 5xx        ``Transient``
any other 4xx                         ``Permanent(provider_code, detail)``
====================================  ==============================================

Connectors teach it their error bodies by overriding ``describe_error`` and,
when the provider sends no ``Retry-After``, ``default_retry_after``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, ClassVar

import requests
from requests.adapters import HTTPAdapter

from connectors.errors import NeedsReauth, Permanent, RateLimited, Transient
from nexiom.correlation import correlation_current

logger = logging.getLogger(__name__)

# One pool per process, shared by every client (urllib3 pools are thread-safe);
# each client gets its own Session so credentials never leak between connections.
_SHARED_ADAPTER = HTTPAdapter(pool_connections=64, pool_maxsize=64, max_retries=0)


def pooled_session() -> requests.Session:
    session = requests.Session()
    session.mount("https://", _SHARED_ADAPTER)
    session.mount("http://", _SHARED_ADAPTER)
    session.headers["User-Agent"] = "Nexiom/0.1 (+https://nexiom.example)"
    return session


class Client:
    """HTTP calls to one connection's provider, failures mapped to domain errors."""

    #: (connect, read) seconds.
    timeout: ClassVar[tuple[float, float]] = (5.0, 60.0)
    #: Seconds to wait after a 429 that carries no Retry-After.
    default_retry_after: ClassVar[float | None] = None
    #: The header that carries the correlation id of the record being processed
    #: (nexiom.correlation), so the provider's logs can be matched with ours; None: not sent.
    correlation_header: ClassVar[str | None] = "X-Correlation-Id"

    def __init__(
        self,
        *,
        base_url: str,
        session: requests.Session,
        is_expired: Callable[[requests.Response], bool],
        reauthenticate: Callable[[requests.Session], None] | None = None,
        provider: str = "the provider",
        metadata: Mapping[str, str] | None = None,
        throttle: Callable[[], AbstractContextManager] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self._is_expired = is_expired
        self._reauthenticate = reauthenticate
        self.provider = provider
        #: Non-secret facts of the connection (realm id, instance URL) for building paths.
        self.metadata = dict(metadata or {})
        #: Held around every request: the engine's shared per-account limiter.
        self._throttle = throttle or contextlib.nullcontext

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        correlation_id = correlation_current()
        if correlation_id and self.correlation_header:
            kwargs["headers"] = {
                **(kwargs.get("headers") or {}),
                self.correlation_header: correlation_id,
            }
        response = self._send(method, path, kwargs)
        if self._is_expired(response):
            if self._reauthenticate is None:
                raise NeedsReauth(
                    f"{self.provider} refused the credential ({response.status_code})."
                )
            self._reauthenticate(self.session)
            response = self._send(method, path, kwargs)
            if self._is_expired(response):
                raise NeedsReauth(
                    f"{self.provider} still refuses the credential after a refresh; reconnect."
                )
        self.raise_for_failure(response)
        return response

    def _send(self, method: str, path: str, kwargs: dict[str, Any]) -> requests.Response:
        url = self.url(path)
        try:
            with self._throttle():
                return self.session.request(method, url, **kwargs)
        except requests.Timeout as exc:
            raise Transient(f"{self.provider} did not answer {method} {path} in time.") from exc
        except requests.RequestException as exc:
            raise Transient(f"{self.provider} could not be reached for {method} {path}.") from exc

    def raise_for_failure(self, response: requests.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        if self.is_throttled(response):
            raise RateLimited(
                f"{self.provider} throttled the request (HTTP {status}).",
                retry_after=self.retry_after(response),
            )
        if status >= 500:
            raise Transient(f"{self.provider} failed with HTTP {status}.")
        code, detail = self.describe_error(response)
        raise Permanent(
            f"{self.provider} refused the request (HTTP {status}, {code}): {detail}"[:500],
            provider_code=code,
            detail=detail,
        )

    def is_throttled(self, response: requests.Response) -> bool:
        return response.status_code == 429

    def retry_after(self, response: requests.Response) -> float | None:
        raw = response.headers.get("Retry-After", "")
        try:
            return max(0.0, float(raw))
        except ValueError:
            return self.default_retry_after

    def describe_error(self, response: requests.Response) -> tuple[str, str]:
        """(provider code, detail) of a refused request; connectors parse their own bodies."""
        return str(response.status_code), response.text[:300]
