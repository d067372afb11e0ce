"""Fault injection: "the next N matching calls answer 429" (or 401, 500, 503, or hang).

Tests post a plan to ``/__sandbox__/faults``; every provider route asks
``FaultPlan.take(path)`` before doing its work. A fault without ``path_prefix``
matches API routes only; one with a prefix matches any provider route under
it, so a test can also make the token endpoint answer 503.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

FAULT_STATUSES = frozenset({401, 403, 429, 500, 503})


class FaultSpecError(ValueError):
    """The posted fault plan is not one the sandbox understands."""


@dataclass(slots=True)
class Fault:
    status: int | None  # None: only hang, then answer normally
    remaining: int
    path_prefix: str | None
    hang_seconds: float | None

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        if not isinstance(data, dict):
            raise FaultSpecError("expected a JSON object")
        status = data.get("status")
        hang = data.get("hang_seconds")
        count = data.get("count", 1)
        prefix = data.get("path_prefix")
        if status is not None and status not in FAULT_STATUSES:
            raise FaultSpecError(f"status must be one of {sorted(FAULT_STATUSES)}")
        if hang is not None and (not isinstance(hang, int | float) or hang < 0):
            raise FaultSpecError("hang_seconds must be a number >= 0")
        if status is None and hang is None:
            raise FaultSpecError("give a status, hang_seconds, or both")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise FaultSpecError("count must be a positive integer")
        if prefix is not None and (not isinstance(prefix, str) or not prefix.startswith("/")):
            raise FaultSpecError("path_prefix must be a path starting with /")
        return cls(status=status, remaining=count, path_prefix=prefix, hang_seconds=hang)


class FaultPlan:
    def __init__(self) -> None:
        self.pending: list[Fault] = []
        self.served: deque[dict[str, Any]] = deque(maxlen=1000)
        self.served_total = 0

    def add(self, fault: Fault) -> None:
        self.pending.append(fault)

    def clear(self) -> None:
        self.pending.clear()

    def take(self, path: str, *, api: bool) -> Fault | None:
        """The first pending fault matching this call, with one use consumed."""
        if not self.pending:
            return None
        for fault in self.pending:
            if fault.path_prefix is None:
                if not api:
                    continue
            elif not path.startswith(fault.path_prefix):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self.pending.remove(fault)
            self.served_total += 1
            self.served.append(
                {
                    "at": time.time(),
                    "path": path,
                    "status": fault.status,
                    "hang_seconds": fault.hang_seconds,
                }
            )
            return fault
        return None

    def summary(self) -> dict[str, Any]:
        return {
            "pending": [asdict(f) for f in self.pending],
            "served_total": self.served_total,
            "served": list(self.served),
        }
