"""Structured logs: one JSON object per line, switched on by ``NEXIOM_LOG_FORMAT=json``.

Each line carries the time (UTC, ISO 8601), level, logger, message, the
tenant schema of the connection, the Celery task's name and id when a task
is running, the process id, and the correlation id of the record being
processed (``nexiom.correlation``, or a record's own ``correlation_id``
passed as ``extra``). The handler's filters run first, so the vault's
``RedactingFilter`` has scrubbed the message and exception text before they
are serialised here; this formatter reads those scrubbed fields and never
formats ``exc_info`` itself when the filter already did.

A Celery worker replaces the root logger's handlers with its own after
Django applied ``LOGGING``; the receivers at the bottom give those handlers
this formatter too when the switch is on (the vault gives them its filter).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any

from celery.signals import after_setup_logger, after_setup_task_logger

from nexiom.correlation import correlation_current


def _tenant_schema() -> str | None:
    try:
        from django.db import connection

        return getattr(connection, "schema_name", None)
    except Exception:  # settings not configured yet (start-up), or no database layer
        return None


def _task() -> tuple[str | None, str | None]:
    try:
        from celery import current_task

        request = getattr(current_task, "request", None)
        name = getattr(current_task, "name", None)
    except Exception:
        return None, None
    if request is None or name is None:
        return None, None
    return name, getattr(request, "id", None)


class JsonFormatter(logging.Formatter):
    """``logging.Formatter`` that writes one JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        task_name, task_id = _task()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "tenant": _tenant_schema(),
            "task": task_name,
            "task_id": task_id,
            "correlation_id": getattr(record, "correlation_id", None)
            or correlation_current()
            or None,
            "pid": record.process or os.getpid(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


def json_logs_enabled() -> bool:
    from django.conf import settings

    return getattr(settings, "NEXIOM_LOG_FORMAT", "plain") == "json"


def _worker_handlers_json(logger=None, **kwargs) -> None:
    if not json_logs_enabled():
        return
    for handler in getattr(logger, "handlers", ()):
        handler.setFormatter(JsonFormatter())


after_setup_logger.connect(_worker_handlers_json, weak=False, dispatch_uid="nexiom-json-logs")
after_setup_task_logger.connect(
    _worker_handlers_json, weak=False, dispatch_uid="nexiom-json-logs-task"
)
