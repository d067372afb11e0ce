"""Keep plaintext out of Celery: task messages, and the worker's log handlers.

Tasks receive ids, never secrets. ``install`` makes the app refuse to send a
task whose arguments (or the arguments of tasks linked or chained to it)
hold a value the vault revealed in this process: the send raises
``PlaintextInTaskMessage`` and nothing reaches the broker.

Why not a ``before_task_publish`` receiver: Celery's signal dispatcher
catches every exception a receiver raises, logs it and publishes the message
anyway, so a receiver can observe but not refuse. The check therefore wraps
``send_task`` of our app, the one path ``delay``/``apply_async``, canvases
and ``app.send_task`` all go through (tenant-schemas-celery adds the schema
header in the same method).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

from vault.errors import PlaintextInTaskMessage
from vault.redaction import MIN_REMEMBERED_LENGTH, handler_filter_add, revealed_value_in


def message_check(*, name: str, args: Any, kwargs: Any, options: dict[str, Any]) -> None:
    """Raise when a revealed value is about to travel in a task message."""
    places = [("positional arguments", args), ("keyword arguments", kwargs)]
    places += [(f"linked tasks ({key})", options.get(key)) for key in ("link", "link_error")]
    places.append(("chained tasks", options.get("chain")))
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
        elif isinstance(item, dict):  # Celery signatures are dicts too
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)


def install(*, app: Celery) -> None:
    """Guard ``app.send_task``; safe to call more than once."""
    original = app.send_task
    if getattr(original, "vault_guarded", False):
        return

    @functools.wraps(original)
    def send_task(name, args=None, kwargs=None, **options):
        message_check(name=name, args=args, kwargs=kwargs, options=options)
        return original(name, args=args, kwargs=kwargs, **options)

    send_task.vault_guarded = True
    app.send_task = send_task


def _worker_handlers_redact(logger=None, **kwargs) -> None:
    # A worker replaces the root logger's handlers with its own after LOGGING
    # was applied; give those the redacting filter as well.
    for handler in getattr(logger, "handlers", ()):
        handler_filter_add(handler)


after_setup_logger.connect(_worker_handlers_redact, weak=False, dispatch_uid="vault-redact")
after_setup_task_logger.connect(
    _worker_handlers_redact, weak=False, dispatch_uid="vault-redact-task"
)
