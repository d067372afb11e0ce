"""Keep plaintext out of logs: a logging filter and the registry of revealed values.

Every value ``secret_reveal`` hands out in this process is remembered here
(strings of at least ``MIN_REMEMBERED_LENGTH`` characters; shorter ones are
too common to scrub without mangling ordinary text). ``RedactingFilter``
replaces them, and anything token-shaped (``access_token=...``,
``"password": "..."``, ``Authorization: Bearer ...``, JWTs), in a record's
message, exception text and stack. The Celery guard reads the same registry.

The registry holds the most recent ``MAX_REMEMBERED`` values: it trades a
bounded memory for the rare value revealed long ago and logged much later,
which the token patterns still catch when it is labelled.

This module is imported by the LOGGING configuration before Django's apps
are ready: it must not import models.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict, deque
from typing import Any

REDACTED = "[REDACTED]"
MIN_REMEMBERED_LENGTH = 8
MAX_REMEMBERED = 4096

_SENSITIVE_NAME = (
    r"[\w.-]*?(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|apikey|authorization"
    r"|private[_-]?key|credentials?)[\w-]*"
)
_FIELD_RE = re.compile(
    rf"(?i)(?P<name>\b{_SENSITIVE_NAME})"
    r"(?P<sep>[\"']?\s*[:=]\s*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|(?:(?:bearer|basic|token)\s+)?[^\s\"',;&}\])]+)"
)
_BEARER_RE = re.compile(r"(?i)\b(?P<scheme>bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*")
_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


class _Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: OrderedDict[str, None] = OrderedDict()
        self._snapshot: tuple[str, ...] | None = ()

    def remember(self, values: list[str]) -> None:
        with self._lock:
            for value in values:
                self._values[value] = None
                self._values.move_to_end(value)
            while len(self._values) > MAX_REMEMBERED:
                self._values.popitem(last=False)
            self._snapshot = None

    def snapshot(self) -> tuple[str, ...]:
        """Longest first, so that a value containing another is replaced whole."""
        snapshot = self._snapshot
        if snapshot is None:
            with self._lock:
                snapshot = tuple(sorted(self._values, key=len, reverse=True))
                self._snapshot = snapshot
        return snapshot

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._snapshot = ()


_registry = _Registry()


def revealed_remember(data: Any) -> None:
    """Remember the string values of revealed data (nested ones too)."""
    found: list[str] = []
    pending = deque([data])
    while pending:
        item = pending.popleft()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
        elif isinstance(item, str) and len(item) >= MIN_REMEMBERED_LENGTH:
            found.append(item)
    if found:
        _registry.remember(found)


def revealed_values() -> tuple[str, ...]:
    return _registry.snapshot()


def revealed_forget_all() -> None:
    """Empty the registry (tests; a process never needs to)."""
    _registry.clear()


def revealed_value_in(text: str) -> bool:
    return any(value in text for value in _registry.snapshot())


def redact(text: str) -> str:
    """The text with revealed values and token-shaped fields replaced by [REDACTED]."""
    for value in _registry.snapshot():
        if value in text:
            text = text.replace(value, REDACTED)
    text = _FIELD_RE.sub(_field_redact, text)
    text = _BEARER_RE.sub(lambda match: f"{match['scheme']} {REDACTED}", text)
    return _JWT_RE.sub(REDACTED, text)


def _field_redact(match: re.Match) -> str:
    value = match["value"]
    if value.lstrip("\"'").startswith(REDACTED[:-1]):
        return match[0]  # already scrubbed (a revealed value)
    quote = value[0] if value[0] in "\"'" else ""
    return f"{match['name']}{match['sep']}{quote}{REDACTED}{quote}"


class RedactingFilter(logging.Filter):
    """Scrubs a record's message, exception text and stack; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # the handler reports a bad format string itself
            message = None
        if message is not None:
            clean = redact(message)
            if clean != message:
                record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def handler_filter_add(handler: logging.Handler) -> None:
    """Give a handler the filter once (Celery's own handlers, set up after LOGGING)."""
    if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
        handler.addFilter(RedactingFilter())
