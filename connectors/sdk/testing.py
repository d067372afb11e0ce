"""Test doubles that ship with the SDK: sandboxes as processes, a strict HTTP mock.

``SandboxProcess`` runs a connector's sandbox (``python -m <module>``) on a
free port and drives its control routes; ``read_consent`` and ``authorize``
press the consent page's buttons the way a person would. ``StrictHTTPMock``
(see below) fails a test that leaves a stub unused.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "http://localhost:8000/api/callback/"
START_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SandboxProcess:
    """One running sandbox: its base URL, a pooled session and the control routes."""

    def __init__(self, module: str, args: tuple[str, ...]) -> None:
        self.module = module
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, "--port", str(self.port), *args],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.http = requests.Session()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.module} exited {self.proc.returncode}: {self.output()}")
            try:
                if self.http.get(self.url("/__sandbox__/state"), timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.module} did not start in {START_TIMEOUT} s: {self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def url(self, path: str) -> str:
        return self.base_url + path

    def state(self) -> dict[str, Any]:
        response = self.http.get(self.url("/__sandbox__/state"), timeout=5)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.http.post(self.url("/__sandbox__/reset"), timeout=5).raise_for_status()

    def inject(self, **fault: Any) -> requests.Response:
        return self.http.post(self.url("/__sandbox__/faults"), json=fault, timeout=5)

    def expire(self, **body: Any) -> requests.Response:
        return self.http.post(self.url("/__sandbox__/expire"), json=body, timeout=5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.http.close()
        self.log.close()


# --- a client's side of the authorization-code flow -----------------------------------------


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.action: str | None = None
        self.button_ids: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.action = attributes.get("action")
        elif tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"] or ""] = attributes.get("value") or ""
        elif tag == "button" and attributes.get("id"):
            self.button_ids.append(attributes["id"] or "")
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def read_consent(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    return reader


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def redirect_params(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


def authorize(
    sandbox: SandboxProcess,
    *,
    path: str,
    client_id: str,
    scope: str,
    state: str = "state-1",
    redirect_uri: str = CALLBACK,
    verifier: str | None = None,
    decision: str = "approve",
) -> dict[str, str]:
    """Open the consent page, press a button, return the redirect's query parameters."""
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
    }
    if verifier is not None:
        params.update(code_challenge=pkce_challenge(verifier), code_challenge_method="S256")
    page = sandbox.http.get(sandbox.url(path), params=params, allow_redirects=False, timeout=5)
    if page.status_code == 302:
        return redirect_params(page)
    assert page.status_code == 200, page.text
    form = read_consent(page.text)
    assert form.button_ids == ["approve", "deny"]
    response = sandbox.http.post(
        sandbox.url(form.action or path),
        data={**form.fields, "decision": decision},
        allow_redirects=False,
        timeout=5,
    )
    return redirect_params(response)
