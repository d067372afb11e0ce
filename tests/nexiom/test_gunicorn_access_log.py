"""The Procfile's web process, DEBUG on as under `make up`: neither its access log nor
Django's request log writes an ingest URL's token."""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import subprocess
import time
from pathlib import Path

import requests
from django.conf import settings
from django.db import connections

from connectors.sdk.testing import free_port

ROOT = Path(__file__).resolve().parents[2]


def _web_command(port: int) -> list[str]:
    line = next(
        row for row in (ROOT / "Procfile").read_text().splitlines() if row.startswith("web:")
    )
    args = shlex.split(line.removeprefix("web:"))
    return [a.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for a in args]


def test_the_access_log_writes_hooks_paths_redacted(django_db_setup, tmp_path: Path):
    db = connections["default"].settings_dict
    port = free_port()
    log = tmp_path / "web.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nexiom.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}",
        "NEXIOM_TEST_REDIS_URL": settings.CELERY_BROKER_URL,
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
    }
    token = secrets.token_urlsafe(32)
    with log.open("w") as out:
        web = subprocess.Popen(
            _web_command(port),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = requests.post(
                    f"http://127.0.0.1:{port}/hooks/{token}?x=1",
                    data=b"<xml/>",
                    headers={"Host": "nobody.localhost", "Content-Type": "text/xml"},
                    timeout=5,
                )
                break
            except requests.ConnectionError:
                assert web.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert answer.status_code == 404
        deadline = time.monotonic() + 10
        while "/hooks/" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(20)

    written = log.read_text()
    assert '"POST /hooks/[REDACTED]?x=1 HTTP/1.1" 404' in written, written
    assert "Not Found: /hooks/[REDACTED]" in written  # django.request, through the filter
    assert token not in written
