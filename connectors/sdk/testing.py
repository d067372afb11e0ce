"""Test doubles that ship with the SDK: sandboxes as processes, a strict HTTP mock.

``SandboxProcess`` runs a connector's sandbox (``python -m <module>``) on a
free port and drives its control routes; ``read_consent`` and ``authorize``
press the consent page's buttons the way a person would. ``StrictHTTPMock``
(see below) fails a test that leaves a stub unused. ``ConnectorContract`` is
the standard suite every connector's test module inherits.

Only tests import this module (it needs pytest, and ``responses`` for the mock).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.errors import NeedsReauth, Permanent, RateLimited, RemoteError, Transient
from connectors.registry import connector_get, connectors_installed
from connectors.sdk.client import Client, pooled_session
from connectors.sdk.connector import LOCAL, Connector
from connectors.sdk.credentials import ApiKey, CredentialType, OAuth2, RefreshRotation, Secrets
from connectors.sdk.interfaces import ReplicaRecord

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


# --- the standard suite every connector inherits ---------------------------------------------


@contextmanager
def local_url(key: str, base_url: str) -> Iterator[None]:
    """Point ``<KEY>_LOCAL_URL`` at a sandbox for the duration of the block."""
    variable = f"{key.upper()}_LOCAL_URL"
    saved = os.environ.get(variable)
    os.environ[variable] = base_url
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = saved


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


#: Where fixtures whose name starts with this must be refused by the parser.
BAD_FIXTURE_PREFIX = "bad_"
_CONTENT_TYPES = {".json": "application/json", ".xml": "text/xml", ".txt": "text/plain"}


class ConnectorContract:
    """The standard suite: subclass it as ``Test<Name>Contract`` in the connector's test module.

    ::

        class TestQuickBooksContract(ConnectorContract):
            connector_key = "quickbooks"
            sample_metadata = {"realmId": "9130"}

            @pytest.fixture
            def sandbox(self, qbo):  # the session's sandbox (tests/connectors/conftest.py)
                return qbo

    Inherited tests, each against the connector's own sandbox as a process
    (the default ``sandbox`` fixture starts one per class and points
    ``<KEY>_LOCAL_URL`` at it):

    - fields: declared credential fields are well formed; ``describe()`` is
      JSON and holds no secret; every environment's URLs resolve; the
      registry finds the connector under its key;
    - authorize: OAuth2 through the consent page and ``exchange_code``; API
      keys through ``pre_authenticate`` with ``api_key``;
    - refresh: by the credential's rotation rule (OAuth2) or a new session;
    - test: ``Connector.test(client)`` succeeds and returns a dict;
    - the base client's error map, with ``StrictHTTPMock`` and the provider's
      own bodies (``expired_response``, ``refused_response``, ...);
    - parse: every fixture in ``fixtures_dir`` through ``parser``.

    The class is not named ``Test...`` so pytest collects only its subclasses.
    """

    #: The connector's key (its entry-point name).
    connector_key: ClassVar[str] = ""
    #: Test this class instead of the installed connector (a connector whose entry point
    #: is not installed yet, e.g. one ``startconnector`` has just written).
    connector_class: ClassVar[type[Connector] | None] = None
    #: API-key connectors: key material the sandbox accepts (its seeded user or key).
    api_key: ClassVar[Mapping[str, str]] = {}
    #: Connection metadata for URL templates (``{realmId}``, ``{instance_url}``).
    sample_metadata: ClassVar[Mapping[str, str]] = {}
    #: Flags of the sandbox process the default ``sandbox`` fixture starts.
    sandbox_args: ClassVar[tuple[str, ...]] = ()
    #: Where the error-map tests send their one request, relative to the API base URL.
    probe_path: ClassVar[str] = "contract/probe"
    # The provider's answers, as StrictHTTPMock.add keyword arguments. The defaults
    # suit a provider whose errors are plain; connectors replace them with recordings.
    expired_response: ClassVar[Mapping[str, Any]] = {
        "status": 401,
        "json": {"error": "invalid_token"},
    }
    throttled_response: ClassVar[Mapping[str, Any]] = {
        "status": 429,
        "json": {"error": "rate_limited"},
    }
    server_error_response: ClassVar[Mapping[str, Any]] = {
        "status": 500,
        "json": {"error": "server_error"},
    }
    refused_response: ClassVar[Mapping[str, Any]] = {
        "status": 400,
        "json": {"error": "invalid_request"},
    }
    #: The provider code ``Permanent.provider_code`` carries for ``refused_response``.
    refused_code: ClassVar[str] = "400"

    # --- fixtures -------------------------------------------------------------------------

    @classmethod
    def connector_make(cls) -> Connector:
        """The connector under test: ``connector_class`` if given, else the installed one."""
        if cls.connector_class is not None:
            return cls.connector_class()
        return connector_get(key=cls.connector_key)

    @pytest.fixture(scope="class")
    @classmethod
    def connector(cls) -> Connector:
        return cls.connector_make()

    @pytest.fixture(scope="class")
    @classmethod
    def sandbox(cls, connector: Connector) -> Iterator[SandboxProcess]:
        """The connector's sandbox as a process, with ``<KEY>_LOCAL_URL`` pointing at it."""
        if not connector.sandbox_module:
            pytest.fail(f"{connector.name} declares no sandbox_module; every connector ships one")
        process = SandboxProcess(connector.sandbox_module, cls.sandbox_args)
        try:
            with local_url(connector.key, process.base_url):
                yield process
        finally:
            process.stop()

    @pytest.fixture
    def local(self, connector: Connector, sandbox: SandboxProcess) -> Connector:
        """The connector, checked to talk to this sandbox in the local environment."""
        assert connector.local_base_url() == sandbox.base_url, (
            f"{connector.key.upper()}_LOCAL_URL does not point at the sandbox under test"
        )
        return connector

    # --- helpers the tests share (and subclasses may use) -----------------------------------

    def redirect_uri(self, connector: Connector) -> str:
        return f"{CALLBACK}{connector.key}"

    def oauth_connect(
        self, connector: Connector, sandbox: SandboxProcess
    ) -> tuple[dict[str, Any], Secrets, dict[str, str]]:
        """Authorize as a person would: (token response, secrets to keep, metadata)."""
        credential = connector.credential
        assert isinstance(credential, OAuth2)
        urls = connector.urls(LOCAL)
        app = connector.app_credentials(LOCAL)
        pair = credential.pkce_pair()
        redirect_uri = self.redirect_uri(connector)
        url = credential.authorize_url(
            urls=urls,
            app=app,
            redirect_uri=redirect_uri,
            state="contract-state",
            code_challenge=pair[1] if pair else None,
        )
        assert url.startswith(sandbox.base_url), url
        callback = consent_submit(sandbox, url)
        assert callback.get("state") == "contract-state", callback
        assert "code" in callback, f"the sandbox refused the authorization: {callback}"
        token = credential.exchange_code(
            http=pooled_session(),
            urls=urls,
            app=app,
            code=callback["code"],
            redirect_uri=redirect_uri,
            code_verifier=pair[0] if pair else None,
        )
        secrets = credential.secrets_from_token(token, previous=None)
        metadata = credential.metadata_from(callback=callback, token=token)
        return token, secrets, metadata

    def api_key_connect(self, connector: Connector) -> tuple[Secrets, dict[str, str]]:
        """Log in with ``api_key``: (secrets to keep, metadata), split as the engine does."""
        credential = connector.credential
        assert isinstance(credential, ApiKey)
        assert self.api_key, f"{type(self).__name__} must set api_key (the sandbox's seeded key)"
        key = dict(self.api_key)
        session = credential.pre_authenticate(
            http=pooled_session(), urls=connector.urls(LOCAL), secrets=key
        )
        session = session or {}
        kept = {name: session[name] for name in credential.session_fields if name in session}
        metadata = {k: str(v) for k, v in session.items() if k not in credential.session_fields}
        return {**key, **kept}, metadata

    def connect(self, connector: Connector, sandbox: SandboxProcess):
        """(secrets, metadata) of a fresh authorization of either kind."""
        if isinstance(connector.credential, OAuth2):
            _, secrets, metadata = self.oauth_connect(connector, sandbox)
            return secrets, metadata
        return self.api_key_connect(connector)

    def client_for(
        self,
        connector: Connector,
        *,
        secrets: Secrets,
        metadata: Mapping[str, str],
        reauthenticate: Callable[[requests.Session], None] | None = None,
    ) -> Client:
        """A client built the way the engine builds one (``connectors.services.credentials``)."""
        session = pooled_session()
        connector.credential.authenticate(session, secrets)
        return connector.client_class(
            base_url=connector.urls(LOCAL, metadata).get("api", ""),
            session=session,
            is_expired=connector.credential.is_expired,
            reauthenticate=reauthenticate,
            provider=connector.name,
            metadata=metadata,
        )

    def sample_secrets(self, connector: Connector, value: str) -> Secrets:
        """Made-up secrets of the right shape, each ending in ``value``."""
        credential = connector.credential
        if isinstance(credential, OAuth2):
            return {"access_token": f"access-{value}", "refresh_token": f"refresh-{value}"}
        assert isinstance(credential, ApiKey)
        names = [*credential.field_names(), *credential.session_fields]
        return {name: f"{name}-{value}" for name in names}

    # --- fields -----------------------------------------------------------------------------

    def test_connector_is_named_and_keyed(self, connector: Connector) -> None:
        assert connector.key == self.connector_key
        assert connector.key.isidentifier() and connector.key == connector.key.lower()
        assert connector.name.strip() and connector.description.strip()
        assert isinstance(connector.credential, OAuth2 | ApiKey), (
            "the credential must derive from OAuth2 or ApiKey (the engine knows those two)"
        )

    def test_credential_fields_are_well_formed(self, connector: Connector) -> None:
        credential: CredentialType = connector.credential
        names = [field.name for field in credential.fields]

        assert len(names) == len(set(names)), f"duplicate field names: {names}"
        for field in credential.fields:
            assert field.name.isidentifier(), field.name
            assert field.label.strip(), f"field {field.name} has no label"
            assert isinstance(field.secret, bool) and isinstance(field.required, bool)
            # An example of a secret is a secret-shaped string people paste somewhere.
            assert not (field.secret and field.example), f"secret {field.name} has an example"
        if isinstance(credential, OAuth2):
            assert names == [], "OAuth2 connects through the provider's page, not typed fields"
            assert credential.scopes is not None
            assert credential.rotation in tuple(RefreshRotation)
            assert credential.client_auth in ("basic", "post")
        else:
            assert isinstance(credential, ApiKey)
            assert credential.field_names(secret=True), "an API key needs a secret field"
            assert not set(credential.session_fields) & set(names)
            required = {f.name for f in credential.fields if f.required}
            assert set(credential.validate({})) == required
            if self.api_key:
                assert credential.validate(dict(self.api_key)) == {}

    def test_describe_is_json_and_holds_no_secret(self, connector: Connector) -> None:
        described = connector.describe()

        text = json.dumps(described)

        assert json.loads(text)["key"] == connector.key
        assert json.loads(text)["credential"]["kind"] == connector.credential.kind
        secrets = [connector.local_app.client_secret] if connector.local_app else []
        if isinstance(connector.credential, ApiKey):
            secrets += [
                str(self.api_key[name])
                for name in connector.credential.field_names(secret=True)
                if self.api_key.get(name)
            ]
        for secret in secrets:
            assert secret not in text, "describe() shows a secret"

    def test_every_environment_resolves_its_urls(self, connector: Connector, monkeypatch) -> None:
        local_base = "http://127.0.0.1:1"  # nothing listens there: this test makes no call
        monkeypatch.setenv(f"{connector.key.upper()}_LOCAL_URL", local_base)
        keys = [environment.key for environment in connector.environments]

        assert len(keys) == len(set(keys)) and LOCAL in keys, keys
        for environment in connector.environments:
            urls = connector.urls(environment.key, self.sample_metadata)

            missing = set(environment.urls) - set(urls)
            assert not missing, (
                f"{environment.key}: {sorted(missing)} need metadata the test lacks; "
                "add it to sample_metadata"
            )
            assert "api" in urls, f"{environment.key} has no 'api' URL"
            if isinstance(connector.credential, OAuth2):
                assert {"authorize", "token"} <= set(urls), environment.key
            for name, url in urls.items():
                template = environment.urls[name]
                assert _is_http_url(url), f"{environment.key}.{name} = {url!r}"
                if environment.key != LOCAL:
                    assert "{local}" not in template, f"{environment.key}.{name} is local"
                elif template.startswith("{local}"):
                    assert url.startswith(local_base), f"local {name} ignores <KEY>_LOCAL_URL"
                else:
                    # Only a URL the provider hands out at connect time (Salesforce's
                    # instance_url) may start elsewhere; a fixed remote host may not.
                    assert template.startswith("{"), f"local {name} = {template!r} is remote"

    def test_the_registry_finds_it_under_its_key(self, connector: Connector) -> None:
        installed = connectors_installed()
        if self.connector_class is not None and self.connector_key not in installed:
            pytest.skip(
                f"{self.connector_key} is not installed: add its line under "
                '[project.entry-points."nexiom.connectors"] and run make venv'
            )

        assert self.connector_key in installed
        assert type(installed[self.connector_key]) is type(connector)

    # --- authorize, refresh, test against the sandbox ---------------------------------------

    def test_authorize_against_its_sandbox(self, local: Connector, sandbox: SandboxProcess):
        credential = local.credential
        if isinstance(credential, OAuth2):
            token, secrets, metadata = self.oauth_connect(local, sandbox)

            assert isinstance(token["access_token"], str) and token["access_token"]
            assert secrets["access_token"] == token["access_token"]
            for name in (*credential.callback_metadata, *credential.token_metadata):
                assert metadata.get(name), f"{name} was not captured from the authorization"
            assert "api" in local.urls(LOCAL, metadata)
        else:
            secrets, metadata = self.api_key_connect(local)

            for name in credential.session_fields:
                assert secrets.get(name), f"pre_authenticate returned no {name}"
            assert "api" in local.urls(LOCAL, metadata)

    def test_a_refused_authorization_is_an_error_not_a_token(
        self, local: Connector, sandbox: SandboxProcess
    ) -> None:
        credential = local.credential
        if isinstance(credential, OAuth2):
            url = credential.authorize_url(
                urls=local.urls(LOCAL),
                app=local.app_credentials(LOCAL),
                redirect_uri=self.redirect_uri(local),
                state="contract-deny",
                code_challenge=(credential.pkce_pair() or (None, None))[1],
            )

            callback = consent_submit(sandbox, url, decision="deny")

            assert callback.get("error") == "access_denied" and "code" not in callback
            with pytest.raises(RemoteError):
                credential.exchange_code(
                    http=pooled_session(),
                    urls=local.urls(LOCAL),
                    app=local.app_credentials(LOCAL),
                    code="not-a-code",
                    redirect_uri=self.redirect_uri(local),
                    code_verifier=None,
                )
        else:
            assert isinstance(credential, ApiKey)
            wrong = {
                name: f"{value}-wrong" if name in credential.field_names(secret=True) else value
                for name, value in self.api_key.items()
            }
            with pytest.raises((NeedsReauth, Permanent)):
                credential.pre_authenticate(
                    http=pooled_session(), urls=local.urls(LOCAL), secrets=wrong
                )

    def test_refresh_follows_the_rotation_rule(
        self, local: Connector, sandbox: SandboxProcess
    ) -> None:
        credential = local.credential
        if isinstance(credential, ApiKey):
            first, _ = self.api_key_connect(local)
            second, metadata = self.api_key_connect(local)
            for name in credential.session_fields:
                assert second[name] and second[name] != first[name], f"{name} was not renewed"
            assert isinstance(
                local.test(self.client_for(local, secrets=second, metadata=metadata)), dict
            )
            return
        assert isinstance(credential, OAuth2)
        token, secrets, metadata = self.oauth_connect(local, sandbox)
        assert secrets.get("refresh_token"), "the code exchange gave no refresh token"
        urls, app = local.urls(LOCAL, metadata), local.app_credentials(LOCAL)

        renewed = credential.refresh(http=pooled_session(), urls=urls, app=app, secrets=secrets)
        kept = credential.secrets_from_token(renewed, previous=secrets)

        assert kept["access_token"] == renewed["access_token"] != token["access_token"]
        if credential.rotation == RefreshRotation.ALWAYS:
            assert renewed.get("refresh_token"), "a rotating provider returned no refresh token"
            assert renewed["refresh_token"] != secrets["refresh_token"]
        if renewed.get("refresh_token"):
            assert kept["refresh_token"] == renewed["refresh_token"], "keep the newest"
        else:
            assert kept["refresh_token"] == secrets["refresh_token"], "keep the old one"
        metadata = {**metadata, **credential.metadata_from(callback={}, token=renewed)}
        assert isinstance(local.test(self.client_for(local, secrets=kept, metadata=metadata)), dict)

    def test_a_revoked_grant_needs_reauth(self, local: Connector, sandbox: SandboxProcess):
        credential = local.credential
        if not isinstance(credential, OAuth2) or "revoke" not in local.urls(LOCAL):
            pytest.skip(f"{local.name} has nothing to revoke")
        _, secrets, metadata = self.oauth_connect(local, sandbox)
        urls, app = local.urls(LOCAL, metadata), local.app_credentials(LOCAL)

        credential.revoke(http=pooled_session(), urls=urls, app=app, secrets=secrets)

        with pytest.raises(NeedsReauth):
            credential.refresh(http=pooled_session(), urls=urls, app=app, secrets=secrets)

    def test_its_test_call_succeeds(self, local: Connector, sandbox: SandboxProcess) -> None:
        secrets, metadata = self.connect(local, sandbox)
        client = self.client_for(local, secrets=secrets, metadata=metadata)

        result = local.test(client)

        assert isinstance(result, dict)
        json.dumps(result)  # shown as the connection's last check: must be JSON

    # --- the base client's error map, with the strict HTTP mock ------------------------------

    def _mocked_client(self, connector: Connector, reauth_calls: list[int] | None = None):
        metadata = dict(self.sample_metadata)

        def reauthenticate(session: requests.Session) -> None:
            assert reauth_calls is not None
            reauth_calls.append(1)
            connector.credential.authenticate(session, self.sample_secrets(connector, "fresh"))

        client = self.client_for(
            connector,
            secrets=self.sample_secrets(connector, "stale"),
            metadata=metadata,
            reauthenticate=reauthenticate if reauth_calls is not None else None,
        )
        return client, client.url(self.probe_path)

    def test_expired_credential_is_refreshed_once_then_retried(self, connector: Connector):
        reauth_calls: list[int] = []
        client, url = self._mocked_client(connector, reauth_calls)

        with StrictHTTPMock() as mock:
            mock.add("GET", url, **self.expired_response)
            mock.add("GET", url, json={"ok": True})
            response = client.get(self.probe_path)

        assert response.json() == {"ok": True}
        assert reauth_calls == [1]
        first, second = (call.request for call in mock.calls)
        assert (first.url, dict(first.headers)) != (second.url, dict(second.headers)), (
            "the retry was sent with the stale credential"
        )

    def test_still_expired_after_a_refresh_needs_reauth(self, connector: Connector) -> None:
        reauth_calls: list[int] = []
        client, url = self._mocked_client(connector, reauth_calls)

        with StrictHTTPMock() as mock:
            mock.add("GET", url, **self.expired_response)
            mock.add("GET", url, **self.expired_response)
            with pytest.raises(NeedsReauth):
                client.get(self.probe_path)

        assert reauth_calls == [1] and len(mock.calls) == 2

    def test_throttling_is_rate_limited_with_retry_after(self, connector: Connector) -> None:
        client, url = self._mocked_client(connector)
        told = {**self.throttled_response}
        told["headers"] = {**told.get("headers", {}), "Retry-After": "7"}

        with StrictHTTPMock() as mock:
            mock.add("GET", url, **told)
            mock.add("GET", url, **self.throttled_response)
            with pytest.raises(RateLimited) as with_header:
                client.get(self.probe_path)
            with pytest.raises(RateLimited) as without:
                client.get(self.probe_path)

        assert with_header.value.retry_after == 7.0
        assert without.value.retry_after == connector.client_class.default_retry_after

    def test_server_errors_and_timeouts_are_transient(self, connector: Connector) -> None:
        client, url = self._mocked_client(connector)

        with StrictHTTPMock() as mock:
            mock.add("GET", url, **self.server_error_response)
            mock.add("GET", url, body=requests.ConnectTimeout("connect timed out"))
            with pytest.raises(Transient):
                client.get(self.probe_path)
            with pytest.raises(Transient):
                client.get(self.probe_path)

    def test_a_refused_request_is_permanent_with_the_provider_code(self, connector: Connector):
        client, url = self._mocked_client(connector)

        with StrictHTTPMock() as mock:
            mock.add("GET", url, **self.refused_response)
            with pytest.raises(Permanent) as refused:
                client.get(self.probe_path)

        assert refused.value.provider_code == self.refused_code
        assert not refused.value.retryable

    # --- fixtures through the parser --------------------------------------------------------

    def test_parses_its_fixtures(self, connector: Connector) -> None:
        if connector.parser is None or connector.fixtures_dir is None:
            pytest.skip(
                f"{connector.name} declares no parser and fixtures_dir yet "
                "(parsers arrive with the pipeline)"
            )
        files = sorted(p for p in Path(connector.fixtures_dir).iterdir() if p.is_file())
        files = [p for p in files if p.suffix in _CONTENT_TYPES and p.name != "README.md"]
        assert files, f"{connector.fixtures_dir} holds no fixture"
        for path in files:
            content_type = _CONTENT_TYPES[path.suffix]
            if path.name.startswith(BAD_FIXTURE_PREFIX):
                with pytest.raises((ValueError, RemoteError)):
                    connector.parser.parse(path.read_bytes(), content_type=content_type)
                continue
            records = connector.parser.parse(path.read_bytes(), content_type=content_type)
            assert records, f"{path.name} parsed to no record"
            for record in records:
                assert isinstance(record, ReplicaRecord), path.name
                assert record.object_type and record.external_id, path.name
