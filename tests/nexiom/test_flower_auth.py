"""Flower as `make up` runs it (the Procfile's command line, a real process) asks for a login,
and the image's entrypoint refuses to start Flower without one."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.idp import free_port

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "admin", "flower-test-password"


def _procfile_command(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name} in the Procfile")


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture(scope="module")
def flower():
    port = free_port()
    command = _procfile_command("flower")
    assert "--port=5555" in command
    env = {
        **os.environ,
        "FLOWER_BASIC_AUTH": f"{USER}:{PASSWORD}",
        "REDIS_URL": settings.CELERY_BROKER_URL,  # the test broker, never a developer's
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    process = subprocess.Popen(
        ["/bin/sh", "-c", command.replace("--port=5555", f"--port={port}")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/healthcheck", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"flower did not start: {process.stderr.read().decode()}")
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


@pytest.mark.parametrize("path", ["/", "/workers", "/tasks", "/api/workers"])
def test_flower_refuses_without_credentials(flower, path):
    response = requests.get(f"{flower}{path}", timeout=10)

    assert response.status_code == 401


def test_flower_refuses_a_wrong_password(flower):
    response = requests.get(f"{flower}/workers", headers=_basic(USER, "not-it"), timeout=10)

    assert response.status_code == 401


def test_flower_answers_with_the_credentials(flower):
    response = requests.get(f"{flower}/workers", headers=_basic(USER, PASSWORD), timeout=10)

    assert response.status_code == 200
    assert "Flower" in response.text


def test_the_probe_stays_open_for_the_health_check(flower):
    assert requests.get(f"{flower}/healthcheck", timeout=10).text == "OK"


def test_the_procfile_refuses_to_start_flower_without_a_login():
    env = {k: v for k, v in os.environ.items() if k != "FLOWER_BASIC_AUTH"}

    result = subprocess.run(
        ["/bin/sh", "-c", _procfile_command("flower")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode != 0
    assert "FLOWER_BASIC_AUTH" in result.stderr


@pytest.mark.parametrize("value", [None, "", "admin", ":secret", "admin:"])
def test_the_image_refuses_to_start_flower_without_user_and_password(value):
    env = {k: v for k, v in os.environ.items() if k != "FLOWER_BASIC_AUTH"}
    if value is not None:
        env["FLOWER_BASIC_AUTH"] = value

    result = subprocess.run(
        ["bash", str(ROOT / "docker" / "entrypoint.sh"), "flower"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 64
    assert "flower needs FLOWER_BASIC_AUTH=user:password" in result.stderr
