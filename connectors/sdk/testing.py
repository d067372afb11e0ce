"""Test doubles that ship with the SDK: sandboxes as processes, a strict HTTP mock.

``SandboxProcess`` runs a connector's sandbox (``python -m <module>``) on a
free port and drives its control routes; ``read_consent`` and ``authorize``
press the consent page's buttons the way a person would (``make demo`` does
too). ``StrictHTTPMock`` fails a test that leaves a stub unused; it needs the
``responses`` package (a dev dependency), imported only when used. The
standard suite, ``ConnectorContract``, is in ``connectors.sdk.contract``.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
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


def consent_submit(
    sandbox: SandboxProcess, authorize_url: str, *, decision: str = "approve"
) -> dict[str, str]:
    """Open an authorize URL a credential built, press Approve (or Deny) on the sandbox's
    consent page, and return the query of the redirect back to Nexiom's callback."""
    page = sandbox.http.get(authorize_url, allow_redirects=False, timeout=10)
    if page.status_code == 302:  # refused before consent (bad client, missing PKCE, ...)
        return redirect_params(page)
    assert page.status_code == 200, f"the consent page answered {page.status_code}: {page.text}"
    form = read_consent(page.text)
    assert form.button_ids == ["approve", "deny"], form.button_ids
    action = form.action or urlsplit(authorize_url).path
    response = sandbox.http.post(
        sandbox.url(action) if action.startswith("/") else action,
        data={**form.fields, "decision": decision},
        allow_redirects=False,
        timeout=10,
    )
    return redirect_params(response)


# --- a strict HTTP mock ----------------------------------------------------------------------


class StrictHTTPMock:
    """``requests`` never leaves the process: every call needs a stub, every stub must be used.

    ::

        with StrictHTTPMock() as mock:
            mock.add("POST", "https://api.example/v1/things", json={"id": 1}, status=201)
            client.post("things", json={...})
        assert mock.calls[0].request.body == ...

    A request with no stub raises ``requests.ConnectionError`` naming the URL
    (``responses``' message). Because the SDK's client turns connection
    errors into ``Transient``, the mock also fails the test at exit when any
    request found no stub, even if the code under test swallowed the error.
    A stub never called fails it too: a stub nobody needs is a test that
    no longer tests what it says. Both checks are skipped when the block
    already raised, so the original failure is the one reported.

    Built on the ``responses`` library (a dev dependency), imported here so
    that nothing outside the tests ever needs it.
    """

    def __init__(self) -> None:
        # Imported here, not at the top: a dev-only dependency (see the docstring).
        import responses

        self._mock = responses.RequestsMock(assert_all_requests_are_fired=True)
        self._finished_calls: list[Any] | None = None
        # Exceptions stubbed on purpose (timeouts), told apart from "no stub" refusals.
        self._stubbed_errors: list[BaseException] = []

    def add(
        self,
        method: str,
        url: str,
        *,
        status: int = 200,
        json: Any = None,
        body: str | bytes | BaseException | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Stub one answer. Stubs for the same URL answer in the order they were added
        (the last one repeats); ``body=`` an exception raises it instead (timeouts)."""
        kwargs: dict[str, Any] = {"status": status, "headers": dict(headers or {})}
        if json is not None:
            kwargs["json"] = json
        elif body is not None:
            kwargs["body"] = body
            if isinstance(body, BaseException):
                self._stubbed_errors.append(body)
        if content_type is not None:
            kwargs["content_type"] = content_type
        self._mock.add(method.upper(), url, **kwargs)

    @property
    def calls(self) -> list[Any]:
        """Every request made (so far, or in the block once it ended), as ``responses``
        calls with ``.request`` and ``.response``."""
        if self._finished_calls is not None:
            return list(self._finished_calls)
        return list(self._mock.calls)

    def unstubbed(self) -> list[str]:
        """``METHOD url`` of each request that found no stub."""
        return [
            f"{call.request.method} {call.request.url}"
            for call in self._mock.calls
            if isinstance(call.response, BaseException)
            and not any(call.response is stubbed for stubbed in self._stubbed_errors)
        ]

    def unused(self) -> list[str]:
        """``METHOD url`` of each stub never called."""
        return [f"{m.method} {m.url}" for m in self._mock.registered() if m.call_count == 0]

    def __enter__(self) -> StrictHTTPMock:
        self._finished_calls = None
        self._mock.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        unstubbed, unused = self.unstubbed(), self.unused()
        self._finished_calls = list(self._mock.calls)  # reset() below forgets them
        self._mock.stop(allow_assert=False)  # our own, clearer checks below
        self._mock.reset()
        if exc_type is not None:
            return
        if unstubbed:
            raise AssertionError(
                "StrictHTTPMock: requests with no stub (add one with mock.add): "
                + ", ".join(unstubbed)
            )
        if unused:
            raise AssertionError("StrictHTTPMock: stubs never called: " + ", ".join(unused))
