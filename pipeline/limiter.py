"""A per-account limiter every worker shares, in Redis: requests per window and in flight.

QuickBooks allows 500 requests a minute and 10 at once per realm (Q24, Q26);
a 429 costs a minute's wait (Q25). So the pipeline does not discover the
limit by hitting it: before each request a worker takes a token from the
account's bucket (refilled continuously at ``rate`` per ``window``) and a
slot among ``concurrent``; both are one atomic Lua call, so any number of
workers and processes together stay below the provider's limits. A slot is
a member of a sorted set scored by its expiry, so a worker that dies holding
one frees it after ``SLOT_TTL`` seconds.

The bucket runs at ``HEADROOM`` of the provider's rate: clocks and windows
never line up exactly, and a 429 is far dearer than 2% of throughput.
"""

from __future__ import annotations

import contextlib
import functools
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import redis
from django.conf import settings

from connectors.errors import RateLimited

HEADROOM = 0.97
SLOT_TTL = 120.0  # longer than any request (QuickBooks times out at 120 s, Q24)
MAX_WAIT = 300.0

# KEYS: bucket hash, slots zset. ARGV: now, rate per second, burst, concurrent, slot id,
# slot expiry. Returns 0 when a token and a slot were taken, else seconds to wait.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local concurrent = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if concurrent > 0 and redis.call('ZCARD', KEYS[2]) >= concurrent then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return tostring(math.min(0.05, math.max(0.005, tonumber(first[2]) - now)))
end
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or burst)
local stamp = tonumber(redis.call('HGET', KEYS[1], 'stamp') or now)
tokens = math.min(burst, tokens + (now - stamp) * rate)
if tokens < 1 then
  redis.call('HSET', KEYS[1], 'tokens', tokens, 'stamp', now)
  return tostring((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'stamp', now)
redis.call('EXPIRE', KEYS[1], 3600)
if concurrent > 0 then
  redis.call('ZADD', KEYS[2], tonumber(ARGV[6]), ARGV[5])
  redis.call('EXPIRE', KEYS[2], 3600)
end
return '0'
"""


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@functools.cache
def _script():
    return _redis().register_script(_ACQUIRE)


@dataclass(frozen=True)
class Limit:
    """``requests`` per ``window`` seconds and ``concurrent`` at once, for one account."""

    account: str
    requests: int
    window: float = 60.0
    concurrent: int = 0

    @property
    def rate(self) -> float:
        return self.requests * HEADROOM / self.window

    @property
    def burst(self) -> float:
        # A small burst: a full bucket of a minute's tokens spent in one second is what
        # a provider's per-second limit (QuickBooks: 10/s, Q24) refuses.
        return max(1.0, min(self.requests * HEADROOM, self.rate))


class LimitWaitTooLong(RateLimited):
    """The account stayed saturated for longer than ``MAX_WAIT`` seconds: the delivery
    treats it like the provider's own 429 and tries again later."""


@contextlib.contextmanager
def limited(limit: Limit) -> Iterator[None]:
    """Hold a token and a slot of ``limit`` around one request, waiting as needed."""
    slot = uuid.uuid4().hex
    keys = [f"nexiom:limit:{limit.account}:bucket", f"nexiom:limit:{limit.account}:slots"]
    deadline = time.monotonic() + MAX_WAIT
    while True:
        now = time.time()
        wait = float(
            _script()(
                keys=keys,
                args=[now, limit.rate, limit.burst, limit.concurrent, slot, now + SLOT_TTL],
            )
        )
        if wait <= 0:
            break
        if time.monotonic() + wait > deadline:
            raise LimitWaitTooLong(
                f"account {limit.account} stayed saturated", retry_after=MAX_WAIT
            )
        time.sleep(wait)
    try:
        yield
    finally:
        if limit.concurrent:
            _redis().zrem(keys[1], slot)


def limit_for(*, connector, connection) -> Limit | None:
    """The connector's declared limit for this connection's account, if it declares one."""
    if not connector.rate_limit:
        return None
    per_minute, concurrent = connector.rate_limit
    account = connection.metadata.get(connector.rate_limit_account) or f"connection-{connection.pk}"
    # Benchmarks and tests shorten the provider's minute (the sandbox's --rate-window).
    window = float(settings.NEXIOM_RATE_LIMIT_MINUTE_SECONDS)
    return Limit(
        account=f"{connector.key}:{account}",
        requests=per_minute,
        window=window,
        concurrent=concurrent,
    )
