"""Keep plaintext out of logs: a logging filter and the registry of revealed values.

Every value ``secret_reveal`` hands out in this process is remembered here
(strings of at least ``MIN_REMEMBERED_LENGTH`` characters; shorter ones are
too common to scrub without mangling ordinary text), together with simple
transformations of it computed once, when it is remembered: upper and lower
case, hex (both cases), and standard and URL-safe base64, as the three
alignment-independent cores that appear wherever the value is base64-encoded,
alone or inside a longer text. ``RedactingFilter`` replaces them, and anything
token-shaped (``access_token=...``, ``"password": "..."``, ``Authorization:
Bearer ...``, JWTs, credential-named query-string and form parameters such as
``?code=...`` or ``&key=...``, and the segment after a path registered with
``secret_path_register``, e.g. an ingest URL's token in ``/hooks/<token>``), in a
record's message, exception text and stack. The Celery guard reads the same
registry, and ``redact_data`` applies the same rules to Celery results and events.

The registry holds the most recent ``MAX_REMEMBERED`` values: it trades a
bounded memory for the rare value revealed long ago and logged much later,
which the token patterns still catch when it is labelled.

This module is imported by the LOGGING configuration before Django's apps
are ready: it must not import models.
"""

from __future__ import annotations

import base64
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
# Parameters of a query string or form body named like credentials. Only as a
# whole parameter name: after "?" or "&", or as the first field of a form body
# ("code=...&state=..."); "code" or "key" in prose is left alone.
_PARAM_NAMES = (
    "access_token|refresh_token|id_token|token|client_secret|client_assertion|api_key"
    "|password|secret|signature|code|key"
)
_PARAM_RE = re.compile(
    r"(?i)(?:(?<=[?&])|(?<![^\s\"'(\[])(?=[\w.-]+=[^\s&]*&))"
    rf"(?P<name>(?:{_PARAM_NAMES}))=(?P<value>[^&#\s\"']+)"
)
_BEARER_RE = re.compile(r"(?i)\b(?P<scheme>bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*")
_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


_URLSAFE = str.maketrans("+/", "-_")

# URL paths whose next segment is itself a credential, registered by the apps that own them
# (the pipeline's ingest URLs): Django logs every 4xx with its path ("Bad Request: /hooks/...").
_secret_path_prefixes: list[str] = []
_secret_path_re: re.Pattern | None = None


def secret_path_register(prefix: str) -> None:
    """Treat the path segment after ``prefix`` (e.g. ``/hooks/``) as a secret; safe to repeat."""
    global _secret_path_re
    if prefix not in _secret_path_prefixes:
        _secret_path_prefixes.append(prefix)
        alternatives = "|".join(re.escape(p) for p in _secret_path_prefixes)
        _secret_path_re = re.compile(rf"(?P<prefix>{alternatives})[^/\s?#\"'<>]+")


def value_variants(value: str) -> frozenset[str]:
    """The value and the simple transformations of it that are looked for as well.

    Base64 is taken at the three byte alignments a value can have inside a
    longer encoded text; only the characters that depend on the value's own
    bytes are kept (no padding, no neighbours), so each core is found in the
    encoding of the value alone and of any text containing it.
    """
    raw = value.encode()
    found = {value, value.upper(), value.lower(), raw.hex(), raw.hex().upper()}
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + raw).decode("ascii")
        core = encoded[-(-8 * shift // 6) : 8 * (shift + len(raw)) // 6]
        found.update((core, core.translate(_URLSAFE)))
    return frozenset(v for v in found if len(v) >= MIN_REMEMBERED_LENGTH)


class _Patterns:
    """Every value and variant to look for, and an index of them by their first characters.

    With few patterns, ``in`` per pattern is fastest; with thousands (a busy
    worker), one pass over the text looking its 8-character windows up in the
    index costs the same whatever the registry holds.
    """

    SCAN_LIMIT = 256

    def __init__(self, patterns: set[str]) -> None:
        #: Longest first, so that a longer one is replaced whole.
        self.ordered = tuple(sorted(patterns, key=len, reverse=True))
        self.index: dict[str, list[str]] = {}
        for pattern in self.ordered:
            self.index.setdefault(pattern[:MIN_REMEMBERED_LENGTH], []).append(pattern)

    def present(self, text: str) -> list[str]:
        """The patterns that occur in ``text``, longest first."""
        if len(self.ordered) <= self.SCAN_LIMIT:
            return [pattern for pattern in self.ordered if pattern in text]
        index, width, hits = self.index, MIN_REMEMBERED_LENGTH, set()
        for start in range(len(text) - width + 1):
            bucket = index.get(text[start : start + width])
            if bucket:
                hits.update(p for p in bucket if text.startswith(p, start))
        return sorted(hits, key=len, reverse=True)


_NO_PATTERNS = _Patterns(set())


class _Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Each remembered value with its variants, computed once here, never per message.
        self._values: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._snapshot: _Patterns | None = _NO_PATTERNS

    def remember(self, values: list[str]) -> None:
        with self._lock:
            for value in values:
                if value not in self._values:
                    self._values[value] = value_variants(value)
                self._values.move_to_end(value)
            while len(self._values) > MAX_REMEMBERED:
                self._values.popitem(last=False)
            self._snapshot = None

    def originals(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._values, key=len, reverse=True))

    def snapshot(self) -> _Patterns:
        snapshot = self._snapshot
        if snapshot is None:
            with self._lock:
                snapshot = _Patterns(set().union(*self._values.values()))
                self._snapshot = snapshot
        return snapshot

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._snapshot = _NO_PATTERNS


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
    """The remembered values themselves (without their variants), longest first."""
    return _registry.originals()


def revealed_forget_all() -> None:
    """Empty the registry (tests; a process never needs to)."""
    _registry.clear()


def revealed_value_in(text: str) -> bool:
    """Whether a remembered value, or one of its variants, occurs in ``text``."""
    return bool(_registry.snapshot().present(text))


def redact(text: str) -> str:
    """The text with revealed values and token-shaped fields replaced by [REDACTED]."""
    for value in _registry.snapshot().present(text):
        text = text.replace(value, REDACTED)
    if _secret_path_re is not None:
        text = _secret_path_re.sub(lambda match: f"{match['prefix']}{REDACTED}", text)
    text = _FIELD_RE.sub(_field_redact, text)
    text = _PARAM_RE.sub(lambda match: f"{match['name']}={REDACTED}", text)
    text = _BEARER_RE.sub(lambda match: f"{match['scheme']} {REDACTED}", text)
    return _JWT_RE.sub(REDACTED, text)


def redact_data(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, tuples, strings) with every string redacted.

    Returns ``value`` itself when nothing needs scrubbing, which one pass over
    all its strings joined decides; otherwise a copy, never changing the
    original (a task's return value is still the caller's).
    """
    strings = list(_strings_of(value))
    if not strings:
        return value
    joined = "\x00".join(strings)
    if redact(joined) == joined:
        return value
    return _redacted_copy(value)


def _strings_of(value: Any):
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, bytes | bytearray):
            yield bytes(item).decode("utf-8", "replace")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)


def _redacted_copy(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", "replace")
        clean = redact(text)
        return value if clean == text else clean.encode()
    if isinstance(value, dict):
        return {_redacted_copy(key): _redacted_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_redacted_copy(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


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
