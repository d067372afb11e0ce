"""The development OpenID provider `make up` runs: its seed, its client, Nexiom's defaults.

The provider is started as the Procfile does (scripts/dev_idp_seed.py
--serve) on a free port, seeded for a committed `demo` tenant.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.roles import Role
from tests.idp import REPO, SEED_SCRIPT

pytestmark = pytest.mark.oidc

ENDPOINTS = ("AUTHORIZATION", "TOKEN", "USER", "JWKS", "LOGOUT")


def authorize(dev_idp, redirect_uri: str) -> requests.Response:
    return requests.get(
        f"{dev_idp.issuer}/auth",
        params={
            "client_id": dev_idp.client["client_id"],
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": redirect_uri,
        },
        allow_redirects=False,
        timeout=10,
    )


def test_the_seed_is_an_admin_an_editor_and_a_viewer_as_zitadel_sends_them(dev_idp):
    users = {user["email"]: user for user in dev_idp.users}

    assert sorted(users) == [
        "admin@demo.localhost",
        "editor@demo.localhost",
        "viewer@demo.localhost",
    ]
    admin = users["admin@demo.localhost"]
    assert admin["email_verified"] is True
    assert admin["roles"] == {"demo:admin": {"300000000000000001": "demo.localhost"}}
    assert users["viewer@demo.localhost"]["roles"] == {
        "demo:viewer": {"300000000000000001": "demo.localhost"}
    }
    assert len({user["password"] for user in users.values()}) == 3


def test_passwords_are_generated_once_and_kept_private(tmp_path):
    def seed() -> str:
        return subprocess.run(
            [sys.executable, str(SEED_SCRIPT), "--state-dir", str(tmp_path)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    first, second = seed(), seed()

    passwords = json.loads((tmp_path / "passwords.json").read_text())
    assert first == second
    for role in ("admin", "editor", "viewer"):
        assert f"{role}@demo.localhost" in first
        assert passwords[role] in first
    for name in ("passwords.json", "users.json", "clients.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://demo.localhost:8000/oidc/callback/",
        "http://acme.localhost:8000/oidc/callback/",
        "http://new-tenant.localhost:51234/oidc/callback/",
        "http://acme.localhost/oidc/callback/",
    ],
)
def test_the_dev_client_sends_codes_to_any_localhost_tenant(dev_idp, redirect_uri):
    response = authorize(dev_idp, redirect_uri)

    assert response.status_code == 303
    assert response.headers["Location"].startswith("/interaction/")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://acme.example.com/oidc/callback/",
        "http://demo.localhost.example.com/oidc/callback/",
        "http://a.b.localhost:8000/oidc/callback/",
        "http://localhost:8000/oidc/callback/",
        "https://acme.localhost:8000/oidc/callback/",
        "http://acme.localhost:8000/oidc/callback/evil",
        "http://acme.localhost:8000/oidc/callback/?next=http://evil.example",
        "http://user@acme.localhost:8000/oidc/callback/",
        "http://ACME.localhost:8000/oidc/callback/",
    ],
)
def test_the_dev_client_refuses_every_other_redirect(dev_idp, redirect_uri):
    response = authorize(dev_idp, redirect_uri)

    assert response.status_code == 400
    assert "invalid_redirect_uri" in response.text


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_the_seeded_editor_and_viewer_sign_in_with_their_roles(db, dev_idp, demo_tenant, role):
    seeded = dev_idp.user(role.value.lower())
    client = Client(HTTP_HOST="demo.localhost")

    begin = client.get("/oidc/authenticate/?next=/admin/")
    back = dev_idp.sign_in(begin["Location"], login=seeded["email"], password=seeded["password"])
    parts = urlsplit(back)
    callback = client.get(f"{parts.path}?{parts.query}")

    assert parts.netloc == "demo.localhost"
    assert (callback.status_code, callback["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200
    with schema_context("demo"):
        user = User.objects.get(oidc_sub=seeded["sub"])
        assert (user.email, user.role) == (seeded["email"], role)


def _settings_import(**env: str) -> subprocess.CompletedProcess:
    """Import nexiom.settings in a fresh process with exactly this OIDC/DJANGO environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "DJANGO_"))}
    names = [f"OIDC_OP_{name}" for name in ("BASE_URL", *(f"{e}_ENDPOINT" for e in ENDPOINTS))]
    names += ["OIDC_RP_CLIENT_ID", "OIDC_RP_CLIENT_SECRET"]
    script = (
        "import json; from nexiom import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def _oidc_settings(**env: str) -> dict:
    result = _settings_import(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_without_a_provider_configured_points_at_the_dev_provider(dev_idp):
    configured = _oidc_settings(DJANGO_DEBUG="1")

    assert configured == {
        "OIDC_OP_BASE_URL": "http://127.0.0.1:9400",
        "OIDC_OP_AUTHORIZATION_ENDPOINT": "http://127.0.0.1:9400/auth",
        "OIDC_OP_TOKEN_ENDPOINT": "http://127.0.0.1:9400/token",
        "OIDC_OP_USER_ENDPOINT": "http://127.0.0.1:9400/me",
        "OIDC_OP_JWKS_ENDPOINT": "http://127.0.0.1:9400/jwks",
        "OIDC_OP_LOGOUT_ENDPOINT": "http://127.0.0.1:9400/session/end",
        "OIDC_RP_CLIENT_ID": dev_idp.client["client_id"],
        "OIDC_RP_CLIENT_SECRET": dev_idp.client["client_secret"],
    }


@pytest.mark.parametrize("debug", ["1", "0"])
def test_a_configured_provider_gets_zitadel_paths_and_no_dev_secret(debug):
    production = {
        "DJANGO_DEBUG": debug,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "NEXIOM_VAULT_KEYS": "1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "OIDC_OP_BASE_URL": "https://acme-xyz.zitadel.cloud",
        "OIDC_RP_CLIENT_ID": "123@nexiom",
    }

    configured = _oidc_settings(**production, OIDC_RP_CLIENT_SECRET="from-zitadel")

    base = "https://acme-xyz.zitadel.cloud"
    assert configured == {
        "OIDC_OP_BASE_URL": base,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{base}/oauth/v2/authorize",
        "OIDC_OP_TOKEN_ENDPOINT": f"{base}/oauth/v2/token",
        "OIDC_OP_USER_ENDPOINT": f"{base}/oidc/v1/userinfo",
        "OIDC_OP_JWKS_ENDPOINT": f"{base}/oauth/v2/keys",
        "OIDC_OP_LOGOUT_ENDPOINT": f"{base}/oidc/v1/end_session",
        "OIDC_RP_CLIENT_ID": "123@nexiom",
        "OIDC_RP_CLIENT_SECRET": "from-zitadel",
    }
    if debug == "1":
        assert _oidc_settings(**production)["OIDC_RP_CLIENT_SECRET"] == ""


def test_production_without_a_client_secret_still_stops():
    production = {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "NEXIOM_VAULT_KEYS": "1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    }

    result = _settings_import(**production)

    assert result.returncode != 0
    assert "OIDC_RP_CLIENT_SECRET is required when DJANGO_DEBUG is off" in result.stderr
