"""The shared per-account limiter, on the real Redis: a rate, a concurrency cap, a way out."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from connectors.errors import RateLimited
from pipeline import limiter
from pipeline.limiter import Limit, limited


def _limit(**fields) -> Limit:
    return Limit(account=f"tests:{uuid.uuid4().hex}", **fields)


def test_requests_beyond_the_rate_wait_for_tokens(monkeypatch):
    # 4 a minute at the headroom: one token at a time, the next one ~15 s later.
    limit = _limit(requests=4, window=60.0)
    monkeypatch.setattr(limiter, "MAX_WAIT", 5.0)

    with limited(limit):  # the bucket starts with a token
        pass
    with pytest.raises(RateLimited) as refused, limited(limit):  # the next one would wait ~15 s
        pass
    with limited(_limit(requests=4, window=60.0)):  # another account has its own bucket
        pass

    assert refused.value.retry_after == 5.0


def test_at_most_concurrent_requests_hold_a_slot():
    limit = _limit(requests=1000, window=1.0, concurrent=1)
    inside, overlaps = [0], []

    def work() -> None:
        with limited(limit):
            inside[0] += 1
            overlaps.append(inside[0])
            time.sleep(0.05)
            inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert overlaps == [1, 1, 1, 1]


def test_an_account_saturated_too_long_is_rate_limited_not_a_crash(monkeypatch):
    monkeypatch.setattr(limiter, "MAX_WAIT", 0.2)
    limit = _limit(requests=1, window=60.0)
    with limited(limit):
        pass

    with pytest.raises(RateLimited) as refused, limited(limit):
        pass

    assert refused.value.retry_after == 0.2
