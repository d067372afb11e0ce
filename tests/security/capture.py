"""Everything the platform says while a flow runs, collected to be searched for secrets.

Call-through spies, never mocks: each one records what really passes and
lets it go on unchanged.

- ``LogCapture``: every log record of every logger at DEBUG (Django's SQL
  included), twice: as the configured handlers write it (through the vault's
  redacting filter, in both the plain and the JSON format, exception and stack
  included), and as emitted (before the filter, with every extra attribute).
- ``ResponseCapture``: every response Django gives (tenant and public hosts,
  API, Desk, hooks, the OAuth callback): status, headers and body.
- ``CeleryCapture``: every task message published: the body and headers as
  the ``before_task_publish`` signal sees them, and the serialized envelope
  as the Redis transport writes it to the broker.
- ``VaultSealSpy``: every plaintext the vault seals (the one sealing point,
  ``vault.services._seal_into``): OAuth tokens at each rotation, API keys,
  sessions. That is where the secrets to look for come from.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from celery.signals import before_task_publish
from django.core.handlers.base import BaseHandler
from django.db.backends.base.base import BaseDatabaseWrapper
from kombu.transport import redis as kombu_redis

import vault.services
from nexiom.logging_json import JsonFormatter
from vault.crypto import payload_decode
from vault.redaction import RedactingFilter


@dataclass
class Item:
    """One thing the platform said: where, and the text of it."""

    place: str
    where: str
    text: str


@dataclass
class Haystack:
    items: list[Item] = field(default_factory=list)

    def add(self, place: str, where: str, text: str) -> int:
        self.items.append(Item(place, where, text))
        return len(self.items) - 1

    def count(self, place: str) -> int:
        return sum(1 for item in self.items if item.place == place)


def encodings(value: str) -> set[str]:
    """The value as it may appear: itself, URL- and JSON-escaped, hex, and base64 (standard
    and URL-safe), also the cores found inside a longer base64 text at each alignment."""
    raw = value.encode()
    found = {
        value,
        quote(value, safe=""),
        quote_plus(value),
        json.dumps(value)[1:-1],
        raw.hex(),
    }
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + raw).decode()
        # Only the characters that depend on the value's own bytes (no padding, no neighbours).
        core = encoded[-(-8 * shift // 6) : 8 * (shift + len(raw)) // 6]
        found |= {core, core.replace("+", "-").replace("/", "_")}
    return {variant for variant in found if len(variant) >= 8}


class LogCapture(logging.Handler):
    """On the root logger and on every logger that does not propagate, at DEBUG."""

    def __init__(self, haystack: Haystack) -> None:
        super().__init__(logging.DEBUG)
        self.haystack = haystack
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self._json = JsonFormatter()
        self._redact = RedactingFilter()
        self._saved: list[tuple[logging.Logger, int, bool]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            emitted = logging.makeLogRecord(record.__dict__)
            extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRIBUTES}
            self.haystack.add("log (as emitted)", record.name, f"{self.format(emitted)} {extras!r}")
            written = logging.makeLogRecord(record.__dict__)
            self._redact.filter(written)
            text = f"{self.format(written)}\n{self._json.format(written)}"
            self.haystack.add("log", record.name, text)
        except Exception:  # a capture must never break the flow it watches
            self.handleError(record)

    def start(self) -> None:
        loggers = [logging.getLogger()] + [
            logger
            for logger in logging.root.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
        ]
        for logger in loggers:
            self._saved.append((logger, logger.level, logger.disabled))
            logger.setLevel(logging.DEBUG)
            # A second embedded worker's logging set-up may leave earlier loggers disabled.
            logger.disabled = False
            if logger is logging.getLogger() or not logger.propagate:
                # First: the configured handlers' filter rewrites the record in place.
                logger.handlers.insert(0, self)

    def stop(self) -> None:
        for logger, level, disabled in self._saved:
            logger.setLevel(level)
            logger.disabled = disabled
            if self in logger.handlers:
                logger.removeHandler(self)


_STANDARD_ATTRIBUTES = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class Spies:
    """The response, Celery, SQL-logging and vault spies, installed and removed together."""

    def __init__(self, haystack: Haystack) -> None:
        self.haystack = haystack
        #: Every dict the vault sealed, in order.
        self.sealed: list[dict] = []
        self._undo: list = []

    def _patch(self, owner, name: str, value) -> None:
        original = getattr(owner, name)
        setattr(owner, name, value)
        self._undo.append((owner, name, original))

    def start(self) -> None:
        haystack, sealed = self.haystack, self.sealed

        original_get_response = BaseHandler.get_response

        def get_response(handler, request):
            response = original_get_response(handler, request)
            where = f"{response.status_code} {request.method} {request.get_host()}{request.path}"
            body = b"(streamed)" if response.streaming else response.content
            headers = "\n".join(f"{k}: {v}" for k, v in response.items())
            cookies = response.cookies.output() if response.cookies else ""
            text = f"{headers}\n{cookies}\n\n{body.decode('utf-8', 'replace')}"
            haystack.add("response", where, text)
            return response

        self._patch(BaseHandler, "get_response", get_response)

        original_put = kombu_redis.Channel._put

        def put(channel, queue, message, **kwargs):
            haystack.add("broker message", str(queue), json.dumps(message, default=str))
            return original_put(channel, queue, message, **kwargs)

        self._patch(kombu_redis.Channel, "_put", put)

        original_seal_into = vault.services._seal_into

        def seal_into(secret, *, plaintext: bytes, schema: str):
            sealed.append(payload_decode(plaintext))
            return original_seal_into(secret, plaintext=plaintext, schema=schema)

        self._patch(vault.services, "_seal_into", seal_into)
        # Django logs SQL (django.db.backends, DEBUG) only when DEBUG is on; force it, in
        # every thread (the worker's connections too), without changing what DEBUG does.
        self._patch(BaseDatabaseWrapper, "queries_logged", property(lambda self: True))
        before_task_publish.connect(self._published, weak=False, dispatch_uid="security-sweep")

    def _published(self, sender=None, body=None, headers=None, properties=None, **kwargs):
        text = json.dumps(
            {"body": body, "headers": headers, "properties": properties}, default=repr
        )
        self.haystack.add("task message", str(sender), text)

    def stop(self) -> None:
        before_task_publish.disconnect(dispatch_uid="security-sweep")
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)


def find(haystack: Haystack, secrets: dict[str, str]) -> Iterable[tuple[str, int, Item, str]]:
    """(secret name, item index, item, the variant found) for every occurrence."""
    needles = {name: encodings(value) for name, value in secrets.items()}
    for index, item in enumerate(haystack.items):
        for name, variants in needles.items():
            for variant in variants:
                if variant in item.text:
                    yield name, index, item, variant
                    break
