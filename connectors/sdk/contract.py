"""The standard suite every connector's test module inherits: ``ConnectorContract``.

A connector's tests subclass it with ``connector_key = "<key>"`` (and the
provider's own error bodies); it checks the declared credential fields, the
environments' URLs, the registry, authorize / refresh / revoke / test against
the connector's sandbox, the base client's error map with ``StrictHTTPMock``,
and that its recorded fixtures parse. Only tests import this module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
import requests

from connectors.errors import NeedsReauth, Permanent, RateLimited, RemoteError, Transient
from connectors.registry import connector_get, connectors_installed
from connectors.sdk.client import Client, pooled_session
from connectors.sdk.connector import LOCAL, Connector
from connectors.sdk.credentials import ApiKey, CredentialType, OAuth2, RefreshRotation, Secrets
from connectors.sdk.interfaces import ReplicaRecord
from connectors.sdk.testing import (
    CALLBACK,
    SandboxProcess,
    StrictHTTPMock,
    consent_submit,
)

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
