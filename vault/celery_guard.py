"""Keep plaintext out of Celery: task messages, results, events and the worker's logs.

Tasks receive ids, never secrets. ``install(app=...)`` (called by
``VaultConfig.ready``) does four things to our app:

1. **Messages.** The app refuses to send a task when a value the vault
   revealed in this process appears anywhere in its message: positional and
   keyword arguments at any depth, headers, linked, chained and chord tasks,
   and every other option (all of them end up in the message). The send raises
   ``PlaintextInTaskMessage`` and nothing reaches the broker.
2. **Results.** Every payload the result backend stores (a task's result, an
   exception's type and message, a traceback, chord parts) passes through
   ``vault.redaction.redact_data`` first. Results are off by default
   (``CELERY_TASK_IGNORE_RESULT``); a task opts in with ``ignore_result=False``.
3. **Events** (what Flower shows): every event the app publishes, e.g.
   task-sent/received ``args``/``kwargs``, task-succeeded ``result``,
   task-failed and task-retried ``exception``/``traceback``, is redacted the
   same way just before it is published, buffered or not.
4. **Pool children.** With the prefork pool a task runs in a child process,
   and the parent, which knows nothing of what the child revealed, logs and
   sends the task's events. So in each child the result's repr and the
   exception (its arguments, message, traceback text) are redacted before
   they go back to the parent.

Where each hook sits, and why there (Celery 5.7):

- Why not a ``before_task_publish`` (or any) signal receiver: Celery's signal
  dispatcher catches every exception a receiver raises, logs it and goes on,
  and a receiver cannot change what is sent. The message check therefore wraps
  ``send_task`` of our app, the one path ``delay``/``apply_async``, canvases,
  retries and ``app.send_task`` all go through (tenant-schemas-celery adds
  the schema header in the same method).
- Every event dispatcher is made by ``app.events.Dispatcher``; ours overrides
  ``EventDispatcher._publish``, the one method that hands events (single or
  grouped ``*.multi``, fresh or flushed from the offline buffer) to kombu.
- Every backend is made by ``app._get_backend``; each one it makes gets its
  ``encode`` wrapped, the one method that turns what is stored into bytes.
- ``worker_process_init`` fires in each prefork child after it built the
  tasks' tracers; the receiver wraps them.

Limits of the message check (what it does not see):

- values shorter than ``vault.redaction.MIN_REMEMBERED_LENGTH`` (8)
  characters are not remembered, so not refused (nor scrubbed from logs);
- only the transformations listed in ``vault.redaction.value_variants`` are
  recognised: the value itself, all upper or all lower case, hex, standard
  and URL-safe base64 (alone or within longer base64). Other encodings
  (percent-encoding, base32, JSON escapes of non-ASCII, compression,
  encryption), mixed case, and a value split across several strings pass;
- only values revealed in this process are known; a value revealed in
  another process, or evicted from the bounded registry, is refused only when
  labelled (``access_token=...``), and only by the redaction of logs, results
  and events, not by the message check;
- objects that are not strings, bytes, dicts, lists, tuples or sets (which
  the JSON serializer would refuse anyway) are not inspected.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from billiard.einfo import ExceptionWithTraceback
from celery import Celery
from celery.app.trace import trace_ok_t
from celery.events.dispatcher import EventDispatcher
from celery.exceptions import Retry
from celery.signals import after_setup_logger, after_setup_task_logger, worker_process_init
from kombu.utils.encoding import safe_repr

from vault.errors import PlaintextInTaskMessage
from vault.redaction import (
    MIN_REMEMBERED_LENGTH,
    handler_filter_add,
    redact,
    redact_data,
    revealed_value_in,
)

_OPTION_NAMES = {
    "headers": "headers",
    "link": "linked tasks (link)",
    "link_error": "linked tasks (link_error)",
    "chain": "chained tasks",
    "chord": "chord callback",
}


def message_check(*, name: str, args: Any, kwargs: Any, options: dict[str, Any]) -> None:
    """Raise when a revealed value is about to travel anywhere in a task message."""
    places = [("positional arguments", args), ("keyword arguments", kwargs)]
    places += [(_OPTION_NAMES.get(key, f"{key} option"), value) for key, value in options.items()]
    for where, value in places:
        for text in _strings(value):
            if len(text) >= MIN_REMEMBERED_LENGTH and revealed_value_in(text):
                raise PlaintextInTaskMessage(
                    f"Task {name} was not sent: its {where} hold a value the vault revealed in "
                    "this process. Send the secret's id and reveal it inside the task."
                )


def _strings(value: Any) -> Iterator[str]:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, bytes | bytearray):
            yield bytes(item).decode("latin-1")
        elif isinstance(item, dict):  # Celery signatures are dicts too
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)


class RedactingEventDispatcher(EventDispatcher):
    """Publishes events with every string redacted (what Flower and monitors receive)."""

    def _publish(self, event, producer, routing_key, *args, **kwargs):
        return super()._publish(redact_data(event), producer, routing_key, *args, **kwargs)


def backend_guard(backend: Any) -> Any:
    """Make ``backend`` redact everything it stores; safe to call more than once."""
    original = backend.encode
    if getattr(original, "vault_guarded", False):
        return backend

    @functools.wraps(original)
    def encode(data):
        return original(redact_data(data))

    encode.vault_guarded = True
    backend.encode = encode
    return backend


def install(*, app: Celery) -> None:
    """Guard ``app``'s sends, results and events; safe to call more than once."""
    original = app.send_task
    if getattr(original, "vault_guarded", False):
        return

    @functools.wraps(original)
    def send_task(name, args=None, kwargs=None, **options):
        message_check(name=name, args=args, kwargs=kwargs, options=options)
        return original(name, args=args, kwargs=kwargs, **options)

    send_task.vault_guarded = True
    app.send_task = send_task

    app.events.dispatcher_cls = RedactingEventDispatcher
    app.events.__dict__.pop("Dispatcher", None)  # a class made before install

    get_backend = app._get_backend
    app._get_backend = lambda: backend_guard(get_backend())
    if app._backend is not None:  # a backend made before install
        backend_guard(app._backend)

    def tracers_redact(**kwargs) -> None:
        for task in app.tasks.values():
            if task.__trace__ is not None:
                task.__trace__ = _tracer_redacting(task.__trace__)

    worker_process_init.connect(tracers_redact, weak=False, dispatch_uid=f"vault-{id(app)}")


def _tracer_redacting(trace):
    """A pool child's tracer whose outcome goes back to the parent redacted."""
    if getattr(trace, "vault_guarded", False):
        return trace

    @functools.wraps(trace)
    def traced(*args, **kwargs):
        retval, info, runtime, retstr = trace(*args, **kwargs)
        if info:  # failed, retried, rejected...: retval is an ExceptionInfo
            einfo_redact(retval)
        elif isinstance(retstr, str):
            retstr = redact(retstr)
        return trace_ok_t(retval, info, runtime, retstr)

    traced.vault_guarded = True
    return traced


def einfo_redact(einfo: Any) -> None:
    """Scrub an ExceptionInfo in place: its traceback text and its exception."""
    if isinstance(getattr(einfo, "traceback", None), str):
        einfo.traceback = redact(einfo.traceback)
    exception = getattr(einfo, "exception", None)
    if isinstance(exception, ExceptionWithTraceback):
        exception.tb = redact(exception.tb) if isinstance(exception.tb, str) else exception.tb
        exception.exc = _exception_redacted(exception.exc)
    elif isinstance(exception, BaseException):
        einfo.exception = _exception_redacted(exception)


class RedactedError(Exception):
    """Stands in for an exception whose text still held a secret after its arguments were
    scrubbed (a custom ``__str__``); it keeps the original type's name."""


def _exception_redacted(exc: BaseException, *, depth: int = 0) -> BaseException:
    if not isinstance(exc, BaseException) or depth > 3:
        return exc
    exc.args = tuple(redact_data(list(exc.args)))
    message = getattr(exc, "message", None)
    if isinstance(message, str):
        exc.message = redact(message)
    inner = getattr(exc, "exc", None)
    if isinstance(inner, BaseException):  # Retry carries the exception that caused it
        exc.exc = _exception_redacted(inner, depth=depth + 1)
    if isinstance(exc, Retry):
        return exc  # its type decides that the task is retried, not failed
    text = safe_repr(exc)
    if redact(text) != text:
        return RedactedError(f"{type(exc).__name__}: {redact(str(exc))}")
    return exc


def _worker_handlers_redact(logger=None, **kwargs) -> None:
    # A worker replaces the root logger's handlers with its own after LOGGING
    # was applied; give those the redacting filter as well.
    for handler in getattr(logger, "handlers", ()):
        handler_filter_add(handler)


after_setup_logger.connect(_worker_handlers_redact, weak=False, dispatch_uid="vault-redact")
after_setup_task_logger.connect(
    _worker_handlers_redact, weak=False, dispatch_uid="vault-redact-task"
)
