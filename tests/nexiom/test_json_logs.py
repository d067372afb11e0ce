"""``NEXIOM_LOG_FORMAT=json``: one JSON object per line, still scrubbed by the vault's filter.

Each case starts a process with the environment an operator would set, so
the settings' switch, Django's LOGGING and (for the worker) Celery's own
logging set-up are the real ones.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

LOG_SOME = """
import logging
import django
django.setup()
from nexiom.correlation import correlated
log = logging.getLogger("nexiom.test")
log.warning("refresh answered access_token=%s", "sk_live_0123456789abcdef")
for _ in correlated(["record"], lambda item: "cid-42"):
    log.info("working on the record")
try:
    raise ValueError("bad\\nvalue with password=hunter2hunter2")
except ValueError:
    log.exception("it failed")
"""


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "NEXIOM_LOG_FORMAT"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "nexiom.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def ours(stderr: str) -> list[dict]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    return [line for line in lines if line["logger"] == "nexiom.test"]


def test_json_lines_carry_the_fields_and_the_correlation_id():
    result = run(LOG_SOME, NEXIOM_LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    warning, info, error = ours(result.stderr)
    assert set(warning) == {
        "time",
        "level",
        "logger",
        "message",
        "tenant",
        "task",
        "task_id",
        "correlation_id",
        "pid",
    }
    assert warning["level"] == "WARNING"
    assert warning["time"].endswith("+00:00")
    assert warning["tenant"] == "public"
    assert warning["task"] is None and warning["correlation_id"] is None
    assert info["message"] == "working on the record"
    assert info["correlation_id"] == "cid-42"
    assert error["level"] == "ERROR"
    assert "ValueError" in error["exc"]


def test_json_lines_are_scrubbed_by_the_vault_filter():
    result = run(LOG_SOME, NEXIOM_LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    warning, _, error = ours(result.stderr)
    assert "sk_live_0123456789abcdef" not in result.stderr
    assert "hunter2hunter2" not in result.stderr
    assert warning["message"] == "refresh answered access_token=[REDACTED]"
    assert "password=[REDACTED]" in error["exc"]


def test_every_record_is_one_line():
    result = run(LOG_SOME, NEXIOM_LOG_FORMAT="json")

    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert all(line.startswith("{") and line.endswith("}") for line in lines)
    assert len(ours(result.stderr)) == 3  # the traceback's newlines stay inside its field


def test_plain_text_stays_the_default():
    result = run(LOG_SOME)

    assert result.returncode == 0, result.stderr
    warning = next(line for line in result.stderr.splitlines() if "nexiom.test" in line)
    assert warning.endswith("WARNING nexiom.test refresh answered access_token=[REDACTED]")
    assert not warning.startswith("{")


def test_an_unknown_format_stops_start_up():
    result = run(LOG_SOME, NEXIOM_LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "NEXIOM_LOG_FORMAT must be plain or json, got 'xml'" in result.stderr


def test_a_celery_worker_logs_json_too():
    # A worker sets up its own logging after Django's; with the switch on it must keep ours.
    queue = f"tests-json-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "NEXIOM_LOG_FORMAT"},
        "NEXIOM_LOG_FORMAT": "json",
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "DJANGO_SETTINGS_MODULE": "nexiom.settings",
        # Celery warns on stderr, outside logging, when run as root (as in CI containers).
        "PYTHONWARNINGS": "ignore",
    }
    celery = str(Path(sys.executable).parent / "celery")
    command = [celery, "-q", "-A", "nexiom", "worker", "--loglevel=INFO", "--pool=solo"]
    process = subprocess.Popen(
        [*command, "-Q", queue, "-n", f"{queue}@%h"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if "ready." in line:
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=30)

    # Everything it logged up to "ready." (its shutdown notice is printed, not logged).
    records = [json.loads(line) for line in lines if line.strip()]
    assert any(r["logger"] == "celery.apps.worker" and "ready." in r["message"] for r in records)
    assert all({"time", "level", "logger", "correlation_id"} <= set(r) for r in records)
