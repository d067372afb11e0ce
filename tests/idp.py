"""The loopback OpenID provider for tests: the development provider `make up` runs.

Both classes start the real node-oidc-provider of scripts/dev_oidc_provider
as a child process, on a free port. `LoopbackIdP` keeps its own user table
in a JSON file the provider re-reads at every login, and drives its login
form over HTTP so that non-browser tests can run the whole code flow.
`DevIdP` starts it exactly as the Procfile's `idp` process does, through
scripts/dev_idp_seed.py, seeded with the demo tenant's users.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

REPO = Path(__file__).resolve().parent.parent
PROVIDER_DIR = REPO / "scripts" / "dev_oidc_provider"
SEED_SCRIPT = REPO / "scripts" / "dev_idp_seed.py"
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


def wait_until_serving(issuer: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60  # node on a loaded 2-core CI machine can be slow
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"the loopback OpenID provider did not start on {issuer}")


def provider_endpoints(issuer: str, *, client_id: str, client_secret: str) -> dict[str, str]:
    """Nexiom's OIDC settings for a provider at `issuer` (node-oidc-provider's paths)."""
    return {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{issuer}/auth",
        "OIDC_OP_TOKEN_ENDPOINT": f"{issuer}/token",
        "OIDC_OP_USER_ENDPOINT": f"{issuer}/me",
        "OIDC_OP_JWKS_ENDPOINT": f"{issuer}/jwks",
        "OIDC_OP_LOGOUT_ENDPOINT": f"{issuer}/session/end",
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": client_secret,
    }


def provider_sign_in(issuer: str, authorize_url: str, *, login: str, password: str) -> str:
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
            if not url.startswith(issuer):
                return url
            continue
        response.raise_for_status()
        interaction = urlsplit(url).path
        response = session.post(
            urljoin(issuer, f"{interaction}/login"),
            data={"login": login, "password": password},
            allow_redirects=False,
            timeout=10,
        )
        if not response.is_redirect:
            raise AssertionError(f"provider refused the login: {response.status_code}")
        url = urljoin(issuer, response.headers["Location"])
    raise AssertionError("too many redirects at the provider")


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
        return provider_endpoints(self.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)

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
        try:
            wait_until_serving(self.issuer, self.process)
        except RuntimeError:
            self.stop()
            raise

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
        return provider_sign_in(self.issuer, authorize_url, login=login, password=password)


@dataclass
class DevIdP:
    """The `idp` process of `make up` (scripts/dev_idp_seed.py --serve), on its own port.

    Its seed (passwords, users, client) goes to `state_dir` instead of var/dev-idp.
    """

    port: int
    state_dir: Path
    tenant: str = "demo"
    process: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def users(self) -> list[dict]:
        """The seeded users, as the provider reads them."""
        return json.loads((self.state_dir / "users.json").read_text())

    @property
    def client(self) -> dict:
        return json.loads((self.state_dir / "clients.json").read_text())[0]

    def user(self, role: str) -> dict:
        return next(user for user in self.users if user["sub"].endswith(f"-{role}"))

    def sign_in(self, authorize_url: str, *, login: str, password: str) -> str:
        return provider_sign_in(self.issuer, authorize_url, login=login, password=password)

    def endpoints(self) -> dict[str, str]:
        client = self.client
        return provider_endpoints(
            self.issuer, client_id=client["client_id"], client_secret=client["client_secret"]
        )

    def start(self) -> None:
        ensure_node_modules()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, str(SEED_SCRIPT), "--serve", "--tenant", self.tenant]
        with (self.state_dir / "provider.log").open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), "--state-dir", str(self.state_dir)],
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_serving(self.issuer, self.process)
        except RuntimeError as exc:
            self.stop()
            log_text = (self.state_dir / "provider.log").read_text()
            raise RuntimeError(f"{exc}:\n{log_text}") from exc

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
