"""Production settings (DJANGO_DEBUG=0): HTTPS, proxies, the secret key, check --deploy.

Settings are read once per process, so each case imports them in a fresh
subprocess with the environment an operator would set.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from vault.keyring import keyring_entry_generate

ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET_KEY = "django-insecure-nexiom-local-development-only"

SHOW_SETTINGS = """
import json, django, os
os.environ['DJANGO_SETTINGS_MODULE'] = 'nexiom.settings'
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in (
    'SECURE_SSL_REDIRECT', 'SECURE_REDIRECT_EXEMPT', 'SECURE_HSTS_SECONDS',
    'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', 'SECURE_PROXY_SSL_HEADER',
    'USE_X_FORWARDED_HOST', 'CSRF_TRUSTED_ORIGINS', 'SESSION_COOKIE_SECURE',
    'CSRF_COOKIE_SECURE', 'DATA_UPLOAD_MAX_MEMORY_SIZE')}))
"""


def production_env(**overrides: str) -> dict[str, str]:
    """What an operator sets in production (fresh strong secrets each time)."""
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "OIDC_RP_CLIENT_SECRET": secrets.token_urlsafe(20),
        "NEXIOM_VAULT_KEYS": keyring_entry_generate(version=1),
        "NEXIOM_BASE_DOMAIN": "nexiom.example.com",
        "OIDC_OP_BASE_URL": "https://nexiom.zitadel.example",
        **overrides,
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    # The suite's own settings module and DEBUG must not leak into the child.
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NEXIOM_", "OIDC_"))
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_settings(**overrides: str) -> dict:
    result = run(["-c", SHOW_SETTINGS], production_env(**overrides))
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- The secret key -----------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["ci-smoke-test-not-a-secret", "x" * 49, DEV_SECRET_KEY],
    ids=["short", "49-characters", "the-development-key"],
)
def test_a_weak_secret_key_stops_production_start_up(key):
    result = run(["-c", SHOW_SETTINGS], production_env(DJANGO_SECRET_KEY=key))

    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: DJANGO_SECRET_KEY is too weak for DJANGO_DEBUG off: it must be "
        "at least 50 characters and not the development key; generate one with: "
    ) in result.stderr
    assert key not in result.stderr


def test_a_50_character_key_is_accepted():
    assert production_settings(DJANGO_SECRET_KEY="k" * 50)["SECURE_SSL_REDIRECT"] is True


# --- HTTPS ---------------------------------------------------------------------------


def test_production_defaults_are_https_only():
    values = production_settings()

    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    # Not behind a proxy we know of: nobody may claim HTTPS with a header.
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["USE_X_FORWARDED_HOST"] is False
    assert values["CSRF_TRUSTED_ORIGINS"] == []
    assert values["DATA_UPLOAD_MAX_MEMORY_SIZE"] == 1024 * 1024


def test_https_settings_follow_the_environment():
    values = production_settings(
        NEXIOM_BEHIND_PROXY="1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_HSTS_SECONDS="600",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="0",
        DJANGO_SECURE_HSTS_PRELOAD="1",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://app.example.com, https://ops.example.com",
    )

    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["USE_X_FORWARDED_HOST"] is False
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://app.example.com", "https://ops.example.com"]


def test_development_keeps_plain_http():
    values = json.loads(
        run(["-c", SHOW_SETTINGS], {"DJANGO_DEBUG": "1"}).stdout.strip().splitlines()[-1]
    )

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0


# Requests through the real middleware, with production settings, in a child
# process that uses this suite's committed test database (tenant alpha).
REQUESTS = """
import json, django, os
os.environ['DJANGO_SETTINGS_MODULE'] = 'nexiom.settings'
django.setup()
from django.test import Client
forwarded = {'HTTP_X_FORWARDED_PROTO': 'https'}
answers = {}
for name, host, path, extra in [
    ('healthz', 'localhost', '/healthz', {}),
    ('readyz', 'localhost', '/readyz', {}),
    ('tenant healthz', 'alpha.localhost', '/healthz', {}),
    ('api over http', 'alpha.localhost', '/api/me/', {}),
    ('api claiming https', 'alpha.localhost', '/api/me/', forwarded),
    ('api over https', 'alpha.localhost', '/api/me/', {'secure': True}),
]:
    response = Client(HTTP_HOST=host).get(path, **extra)
    answers[name] = [response.status_code, response.get('Location'),
                     response.get('Strict-Transport-Security')]
print(json.dumps(answers))
"""


def answers_with(**overrides: str) -> dict:
    env = production_env(
        NEXIOM_BASE_DOMAIN="localhost",
        DATABASE_URL=_test_database_url(),
        REDIS_URL="redis://127.0.0.1:6379/13",
        **overrides,
    )
    result = run(["-c", REQUESTS], env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _test_database_url() -> str:
    params = connection.settings_dict
    host = params["HOST"] or "127.0.0.1"
    return f"postgres://{params['USER']}@{host}:{params['PORT'] or 5432}/{params['NAME']}"


@pytest.mark.django_db
def test_production_redirects_to_https_except_the_probes_and_ignores_a_forged_proto():
    answers = answers_with()

    assert answers["healthz"][0] == 200
    assert answers["readyz"][0] == 200
    assert answers["tenant healthz"][0] == 200
    assert answers["api over http"][:2] == [301, "https://alpha.localhost/api/me/"]
    # Without NEXIOM_BEHIND_PROXY the header is the client's word: still redirected.
    assert answers["api claiming https"][:2] == [301, "https://alpha.localhost/api/me/"]
    assert answers["api over https"] == [401, None, "max-age=31536000; includeSubDomains"]


@pytest.mark.django_db
def test_behind_a_proxy_its_forwarded_proto_is_trusted():
    answers = answers_with(NEXIOM_BEHIND_PROXY="1")

    assert answers["api over http"][0] == 301
    assert answers["api claiming https"] == [401, None, "max-age=31536000; includeSubDomains"]


# --- check --deploy ------------------------------------------------------------------


def test_check_deploy_leaves_only_the_warnings_the_readme_explains():
    result = run(["manage.py", "check", "--deploy"], production_env())

    assert result.returncode == 0, result.stderr[-2000:]
    found = sorted(set(re.findall(r"\(([a-z_]+\.[A-Z]\d{3})\)", result.stderr)))
    readme = (ROOT / "README.md").read_text()
    assert set(found) <= {"security.W021"}, result.stderr
    for code in found:
        assert f"`{code}`" in readme, f"README's Production section must explain {code}"
