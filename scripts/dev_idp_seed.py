"""Seed, and start, the development OpenID provider: the `idp` process of `make up`.

The provider is the real node-oidc-provider in ``scripts/dev_oidc_provider``
(the login tests run the same server). This script writes what it reads, in
``var/dev-idp/`` (git-ignored, 0600):

* ``passwords.json``: one password per demo role, generated on first use and
  reused afterwards, so the sign-in details stay the same on this machine;
* ``users.json``: an Admin, an Editor and a Viewer of the demo tenant, each
  with a verified email and the roles claim exactly as Zitadel sends it
  (``{"demo:admin": {"<org id>": "<org domain>"}}``); the provider re-reads it
  at every login;
* ``clients.json``: Nexiom's development client. Its redirect URIs are the
  demo tenant's, and, because it is registered with ``nexiom_tenant_hosts``,
  ``http://<any tenant>.localhost:<port>/oidc/callback/`` too: a tenant
  provisioned while ``make up`` runs can sign in without a restart.

Usage::

    python scripts/dev_idp_seed.py            # write the seed, print the sign-in details
    python scripts/dev_idp_seed.py --serve    # write it, then become the provider (Procfile)

The port, client id and secret are the defaults of ``nexiom/settings.py``
when DJANGO_DEBUG is on and no ``OIDC_OP_*`` variable is set. The client
secret is not a secret: the provider listens on loopback only and sends
codes only to ``*.localhost``. Production signs in with Zitadel.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVER = REPO / "scripts" / "dev_oidc_provider" / "server.mjs"
DEFAULT_STATE_DIR = REPO / "var" / "dev-idp"
DEFAULT_PORT = 9400
CLIENT_ID = "nexiom-local"
CLIENT_SECRET = "nexiom-local-dev-only-not-a-secret"  # noqa: S105 (see the docstring)
ROLES_CLAIM_ORG_ID = "300000000000000001"  # Zitadel org ids are numeric strings
ROLES = ("admin", "editor", "viewer")


def passwords_ensure(state_dir: Path) -> dict[str, str]:
    """The demo roles' passwords: read from the state dir, generated once when missing."""
    path = state_dir / "passwords.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    if all(known.get(role) for role in ROLES):
        return known
    fresh = {role: known.get(role) or secrets.token_urlsafe(12) for role in ROLES}
    _write_private(path, fresh, replace=path.exists())
    # Another process may have created the file first: everybody uses that one.
    return json.loads(path.read_text())


def seed_write(*, state_dir: Path, tenant: str, base_domain: str, public_port: int) -> list[dict]:
    """Write users.json and clients.json for the tenant; return the users."""
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    passwords = passwords_ensure(state_dir)
    tenant_host = f"{tenant}.{base_domain}"
    users = [
        {
            "sub": f"dev-{tenant}-{role}",
            "email": f"{role}@{tenant_host}",
            "email_verified": True,
            "password": passwords[role],
            "name": f"Demo {role.title()}",
            "roles": {f"{tenant}:{role}": {ROLES_CLAIM_ORG_ID: tenant_host}},
        }
        for role in ROLES
    ]
    origin = f"http://{tenant_host}:{public_port}"
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"{origin}/oidc/callback/"],
        "post_logout_redirect_uris": [f"{origin}/admin/login/"],
        "token_endpoint_auth_method": "client_secret_post",
    }
    if base_domain == "localhost" or base_domain.endswith(".localhost"):
        client["nexiom_tenant_hosts"] = base_domain
    _write_private(state_dir / "users.json", users, replace=True)
    _write_private(state_dir / "clients.json", [client], replace=True)
    return users


def _write_private(path: Path, data: object, *, replace: bool) -> None:
    """Write JSON atomically with mode 0600; without `replace`, never over an existing file."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(data, handle, indent=2)
        if replace:
            os.replace(temporary, path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def sign_in_details(users: list[dict], *, port: int) -> str:
    lines = [
        f'  Demo sign-in ("Sign in with your company account"; local OpenID provider '
        f"http://127.0.0.1:{port}, production uses Zitadel):"
    ]
    for role, user in zip(ROLES, users, strict=True):
        lines.append(f"    {role.title():<7} {user['email']:<28} password {user['password']}")
    return "\n".join(lines)


def serve(*, state_dir: Path, port: int) -> None:
    """Replace this process with the provider (so signals from honcho reach it)."""
    node = shutil.which("node")
    if node is None or not (SERVER.parent / "node_modules" / "oidc-provider").is_dir():
        sys.exit(
            "The development OpenID provider needs Node.js 20+ and its packages: "
            "npm ci --prefix scripts/dev_oidc_provider (make up does it)"
        )
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_USERS_FILE": str(state_dir / "users.json"),
        "OIDC_CLIENTS_FILE": str(state_dir / "clients.json"),
    }
    os.execve(node, [node, str(SERVER)], env)  # noqa: S606 (fixed argv, no shell)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenant", default=os.environ.get("DEMO_SLUG") or "demo")
    parser.add_argument(
        "--base-domain", default=os.environ.get("NEXIOM_BASE_DOMAIN") or "localhost"
    )
    parser.add_argument(
        "--public-port", type=int, default=int(os.environ.get("NEXIOM_PUBLIC_PORT") or 8000)
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="the provider's port")
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    parser.add_argument("--serve", action="store_true", help="then run the provider")
    args = parser.parse_args(argv)

    users = seed_write(
        state_dir=args.state_dir,
        tenant=args.tenant.lower(),
        base_domain=args.base_domain.strip().lower(),
        public_port=args.public_port,
    )
    if args.serve:
        logins = ", ".join(user["email"] for user in users)
        print(f"seeded {logins} (passwords: {args.state_dir / 'passwords.json'})", flush=True)
        serve(state_dir=args.state_dir, port=args.port)
    else:
        print(sign_in_details(users, port=args.port))


if __name__ == "__main__":
    main()
