"""Per-account throttling: a token bucket of requests per window and a cap on
requests in flight, the two limits QuickBooks enforces per realm (Q24, Q26).

The bucket holds ``per_window`` requests and refills continuously at
``per_window / window`` per second, so a short ``window`` keeps tests short.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any


class RateLimiter:
    def __init__(
        self,
        *,
        per_window: int | None,
        window: float,
        concurrency: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_window = per_window
        self.window = window
        self.concurrency = concurrency
        self.clock = clock
        self.enabled = per_window is not None or concurrency is not None
        self.buckets: dict[str, list[float]] = {}  # account -> [tokens, last refill]
        self.in_flight: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()  # account -> refusals
        self.peak_in_flight = 0

    def reset(self) -> None:
        self.buckets.clear()
        self.in_flight.clear()
        self.throttled.clear()
        self.peak_in_flight = 0

    def acquire(self, account: str) -> str | None:
        """Admit one request (then call ``release``), or say why not: "concurrency"/"rate"."""
        if self.concurrency is not None and self.in_flight[account] >= self.concurrency:
            self.throttled[account] += 1
            return "concurrency"
        if self.per_window is not None:
            now = self.clock()
            bucket = self.buckets.get(account)
            if bucket is None:
                bucket = self.buckets[account] = [float(self.per_window), now]
            else:
                refill = (now - bucket[1]) * self.per_window / self.window
                bucket[0] = min(float(self.per_window), bucket[0] + refill)
                bucket[1] = now
            if bucket[0] < 1.0:
                self.throttled[account] += 1
                return "rate"
            bucket[0] -= 1.0
        self.in_flight[account] += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight[account])
        return None

    def release(self, account: str) -> None:
        self.in_flight[account] -= 1

    def summary(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "per_window": self.per_window,
            "window_seconds": self.window,
            "concurrency": self.concurrency,
            "throttled": dict(self.throttled),
            "peak_in_flight": self.peak_in_flight,
        }
