"""The correlation id: one id per inbound message, carried by every layer that touches it.

L1 mints it when a message arrives (``pipeline.InboundMessage.correlation_id``);
each later layer binds the id of the record it is working on to a context
variable while it works on it (``correlated``). Whatever reads the variable
then agrees on it: the history rows written meanwhile
(``sync_history.services.Event``), the JSON log lines
(``nexiom.logging_json``) and the requests the SDK client sends to the
target (``X-Correlation-Id``). Context variables are per thread (and per
asyncio task), so a worker's threads never see each other's ids.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

#: Stored in CharField(max_length=36) columns and sent as a header.
MAX_LENGTH = 36

_current: ContextVar[str] = ContextVar("nexiom_correlation_id", default="")


def correlation_new() -> str:
    """A fresh id (a UUID4 in its 36-character form)."""
    return str(uuid.uuid4())


def correlation_current() -> str:
    """The id bound in this context, or ``""`` outside any record's processing."""
    return _current.get()


def correlated(items: Iterable[T], id_of: Callable[[T], str]) -> Iterator[T]:
    """Iterate ``items`` with each item's id bound while the loop body runs on it.

    ``for record in correlated(records, lambda r: r.correlation_id): ...`` —
    a generator runs in its caller's context, so the body sees the binding;
    the previous value is back once the loop ends, however it ends.
    """
    token = _current.set(_current.get())
    try:
        for item in items:
            _current.set((id_of(item) or "")[:MAX_LENGTH])
            yield item
    finally:
        # ValueError: closed from another context (garbage-collected elsewhere).
        with contextlib.suppress(ValueError):
            _current.reset(token)


def with_new_correlation(view: Callable[..., Any]) -> Callable[..., Any]:
    """Bind a fresh id for the duration of each call (a request that mints a message)."""

    @functools.wraps(view)
    def bound(*args: Any, **kwargs: Any) -> Any:
        token = _current.set(correlation_new())
        try:
            return view(*args, **kwargs)
        finally:
            _current.reset(token)

    return bound
