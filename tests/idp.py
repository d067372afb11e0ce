"""The loopback OpenID provider for tests (node-oidc-provider, see tests/oidc_provider).

`LoopbackIdP` starts the real provider as a child process, keeps its user
table in a JSON file the provider re-reads at every login, and drives its
login form over HTTP so that non-browser tests can run the whole code flow.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "nexiom-tests"
CLIENT_SECRET = "tests-client-secret-" + uuid.uuid4().hex
ROLES_CLAIM = "urn:zitadel:iam:org:project:roles"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_node_modules() -> None:
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed for the OIDC tests (Node.js 20+)")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=PROVIDER_DIR,
            check=True,
            capture_output=True,
        )


@dataclass
class IdPUser:
    sub: str
    email: str
    password: str = "correct horse battery staple"
    email_verified: bool = True
    roles: dict | None = None
    name: str = ""


@dataclass
class LoopbackIdP:
    port: int
    users_file: Path
    redirect_hosts: list[str]
    process: subprocess.Popen | None = None
    users: dict[str, IdPUser] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoints(self) -> dict[str, str]:
        return {
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.issuer}/auth",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.issuer}/token",
            "OIDC_OP_USER_ENDPOINT": f"{self.issuer}/me",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.issuer}/jwks",
            "OIDC_OP_LOGOUT_ENDPOINT": f"{self.issuer}/session/end",
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
        }

    def start(self) -> None:
        ensure_node_modules()
        self._write_users()
        client = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"http://{host}/oidc/callback/" for host in self.redirect_hosts],
            "post_logout_redirect_uris": [
                f"http://{host}/admin/login/" for host in self.redirect_hosts
            ],
            "token_endpoint_auth_method": "client_secret_post",
        }
        env = {
            **os.environ,
            "OIDC_PORT": str(self.port),
            "OIDC_USERS_FILE": str(self.users_file),
            "OIDC_CLIENTS": json.dumps([client]),
        }
        self.process = subprocess.Popen(
            [shutil.which("node") or "node", str(PROVIDER_DIR / "server.mjs")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the loopback OpenID provider did not start")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)

    def add_user(self, **kwargs) -> IdPUser:
        user = IdPUser(**kwargs)
        self.users[user.sub] = user
        self._write_users()
        return user

    def _write_users(self) -> None:
        rows = [
            {
                "sub": u.sub,
                "email": u.email,
                "password": u.password,
                "email_verified": u.email_verified,
                "roles": u.roles,
                "name": u.name or u.email,
            }
            for u in self.users.values()
        ]
        self.users_file.write_text(json.dumps(rows))

    def sign_in(self, authorize_url: str, *, login: str, password: str) -> str:
        """Follow the provider's redirects and fill its login form, as a browser would.

        Returns the URL the provider sends back to Nexiom (the callback, or
        an error redirect); it is not fetched.
        """
        session = requests.Session()
        url = authorize_url
        for _ in range(10):
            response = session.get(url, allow_redirects=False, timeout=10)
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                if not url.startswith(self.issuer):
                    return url
                continue
            response.raise_for_status()
            interaction = urlsplit(url).path
            response = session.post(
                urljoin(self.issuer, f"{interaction}/login"),
                data={"login": login, "password": password},
                allow_redirects=False,
                timeout=10,
            )
            if not response.is_redirect:
                raise AssertionError(f"provider refused the login: {response.status_code}")
            url = urljoin(self.issuer, response.headers["Location"])
        raise AssertionError("too many redirects at the provider")
