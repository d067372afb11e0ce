"""The sandbox application: one aiohttp app holding all state in plain dicts.

``create_sandbox_app(provider)`` mounts the OAuth server, the provider's API
routes and the control routes every sandbox has:

- ``GET /__sandbox__/state``: what it received and holds, as JSON
  (token calls with fingerprints, never a whole token; token counts; the
  provider's records; faults served; requests per route);
- ``POST /__sandbox__/faults`` ``{"status", "count", "path_prefix", "hang_seconds"}``
  and ``DELETE /__sandbox__/faults``;
- ``POST /__sandbox__/expire`` ``{"access_token": ...}`` or ``{"all": true}``;
- ``POST /__sandbox__/reset``: empties all state.

Every API route goes through ``Sandbox.add_api_route``: count it, serve an
injected fault if one matches, check the bearer token (the provider's own
401), check the account, throttle (the provider's own 429), then the handler.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .faults import Fault, FaultPlan, FaultSpecError
from .oauth import OAuthServer
from .provider import SandboxProvider, json_response
from .ratelimit import RateLimiter
from .tokens import Token, TokenStore

ApiHandler = Callable[[web.Request, Token | None], Awaitable[web.Response]]
Handler = Callable[[web.Request], Awaitable[web.Response]]


class Sandbox:
    """The state of one sandbox process and the gate in front of its API routes."""

    def __init__(self, provider: SandboxProvider) -> None:
        self.provider = provider
        self.options = provider.options
        self.tokens = TokenStore()
        self.faults = FaultPlan()
        self.limiter = RateLimiter(
            per_window=self.options.rate_limit,
            window=self.options.rate_window,
            concurrency=self.options.concurrency,
        )
        self.latency = self.options.latency_ms / 1000.0
        self.started_at = time.time()
        self._clear_records()

    def _clear_records(self) -> None:
        self.route_counts: Counter[str] = Counter()
        self.token_calls: deque[dict[str, Any]] = deque(maxlen=1000)
        self.authorizations: deque[dict[str, Any]] = deque(maxlen=1000)
        self.unauthorized = 0

    def reset(self) -> None:
        self.tokens = TokenStore()
        self.faults = FaultPlan()
        self.limiter.reset()
        self._clear_records()
        self.provider.reset()

    def base_url(self, request: web.Request) -> str:
        """The sandbox's own base URL, as the client reached it (or ``--public-url``)."""
        if self.options.public_url:
            return self.options.public_url.rstrip("/")
        return f"{request.scheme}://{request.host}"

    def bearer(self, request: web.Request) -> Token | None:
        header = request.headers.get("Authorization", "")
        if header[:7].lower() != "bearer ":
            return None
        return self.tokens.access_get(header[7:].strip())

    # --- routes ------------------------------------------------------------------------

    def add_route(
        self, app: web.Application, method: str, path: str, handler: Handler, *, api: bool
    ) -> None:
        """A provider route that is counted and can be faulted but has no bearer gate
        (OAuth endpoints, SOAP login). Faults reach it only through ``path_prefix``."""
        key = f"{method} {path}"

        async def counted(request: web.Request) -> web.Response:
            self.route_counts[key] += 1
            fault = self.faults.take(request.path, api=api)
            if fault is not None:
                answer = await self._serve_fault(fault)
                if answer is not None:
                    return answer
            return await handler(request)

        app.router.add_route(method, path, counted)

    def add_api_route(
        self, app: web.Application, method: str, path: str, handler: ApiHandler
    ) -> None:
        key = f"{method} {path}"
        provider = self.provider
        limiter = self.limiter

        async def gated(request: web.Request) -> web.Response:
            self.route_counts[key] += 1
            if self.faults.pending:
                fault = self.faults.take(request.path, api=True)
                if fault is not None:
                    answer = await self._serve_fault(fault)
                    if answer is not None:
                        return answer
            token = self.bearer(request)
            if token is None:
                self.unauthorized += 1
                return provider.unauthorized()
            refusal = provider.check_account(request, token)
            if refusal is not None:
                return refusal
            if not limiter.enabled:
                if self.latency:
                    await asyncio.sleep(self.latency)
                return await handler(request, token)
            account = token.account
            reason = limiter.acquire(account)
            if reason is not None:
                return provider.throttled(reason)
            try:
                if self.latency:
                    await asyncio.sleep(self.latency)
                return await handler(request, token)
            finally:
                limiter.release(account)

        app.router.add_route(method, path, gated)

    async def _serve_fault(self, fault: Fault) -> web.Response | None:
        if fault.hang_seconds:
            await asyncio.sleep(fault.hang_seconds)
        return None if fault.status is None else self.provider.fault(fault.status)

    # --- control routes -------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "provider": self.provider.name,
            "started_at": self.started_at,
            "now": time.time(),
            "options": self.options.public(),
            "oauth": {
                **self.tokens.summary(),
                "token_calls": list(self.token_calls),
                "authorizations": list(self.authorizations),
            },
            "requests": {
                "total": sum(self.route_counts.values()),
                "by_route": dict(self.route_counts),
                "unauthorized": self.unauthorized,
            },
            "faults": self.faults.summary(),
            "rate_limit": self.limiter.summary(),
            "data": self.provider.state(),
        }


SANDBOX = web.AppKey("sandbox", Sandbox)


async def _read_json(request: web.Request) -> Any:
    if not request.can_read_body:
        return {}
    try:
        return await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="expected a JSON body") from None


async def state_view(request: web.Request) -> web.Response:
    return json_response(request.app[SANDBOX].state())


async def faults_add(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    data = await _read_json(request)
    try:
        specs = data if isinstance(data, list) else [data]
        faults = [Fault.from_json(spec) for spec in specs]
    except FaultSpecError as exc:
        return json_response({"error": str(exc)}, status=400)
    for fault in faults:
        sandbox.faults.add(fault)
    return json_response(sandbox.faults.summary(), status=201)


async def faults_clear(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    sandbox.faults.clear()
    return json_response(sandbox.faults.summary())


async def reset_view(request: web.Request) -> web.Response:
    request.app[SANDBOX].reset()
    return json_response({"reset": True})


async def expire_view(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    data = await _read_json(request)
    if isinstance(data, dict) and data.get("all") is True:
        expired = sandbox.tokens.expire_access()
    elif isinstance(data, dict) and isinstance(data.get("access_token"), str):
        expired = sandbox.tokens.expire_access(data["access_token"])
    else:
        return json_response({"error": 'give {"access_token": ...} or {"all": true}'}, status=400)
    return json_response({"expired": expired})


def create_sandbox_app(provider: SandboxProvider) -> web.Application:
    """The aiohttp application of one sandbox: OAuth, the provider's API, control routes."""
    app = web.Application()
    sandbox = Sandbox(provider)
    app[SANDBOX] = sandbox
    OAuthServer(sandbox).add_routes(app)
    provider.add_routes(sandbox, app)
    app.router.add_get("/__sandbox__/state", state_view)
    app.router.add_post("/__sandbox__/faults", faults_add)
    app.router.add_delete("/__sandbox__/faults", faults_clear)
    app.router.add_post("/__sandbox__/reset", reset_view)
    app.router.add_post("/__sandbox__/expire", expire_view)
    return app
