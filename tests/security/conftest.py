"""A committed throwaway tenant with data everywhere, reached the way a customer would.

Both security modules (the API fuzzing and the secrets sweep) need the same
thing: a tenant of their own (destructive requests are fine there, and it is
dropped afterwards), one member per role with a personal API token, a
Revenova connection made through the API with the sandbox's integration
user, a QuickBooks connection authorized through the sandbox's OAuth consent,
a route between them and the Revenova connection's ingest URL. Everything is
arranged through the API and the real services, never the ORM.

Connections live in the ``local`` environment, whose URLs point at the session's
sandboxes (tests/sandboxes.py): nothing reaches a real provider.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.roles import Role
from accounts.services import api_token_create, user_role_set
from connectors.sdk.testing import SandboxProcess
from tenants.models import Tenant
from tenants.services import tenant_provision
from tests.connectors.flows import connect

# The module-scoped Celery worker (unique queues per module) of the pipeline's suite.
from tests.pipeline.conftest import MAPPING, ORG_ID, pipeline_quiet, pipeline_worker  # noqa: F401

ROLES = (Role.ADMIN, Role.EDITOR, Role.VIEWER)
#: Names stay unique when a fuzzed role deleted only some of the rows and they are made again.
_seeds = itertools.count(1)
#: The Revenova sandbox's integration user (README, "Sandboxes"): the org of the fixtures.
REVENOVA_LOGIN = {
    "username": "integration@demo-freight.example",
    "password": "dev-password-revenova",
    "security_token": "devSecurityToken123",
    "org_id": ORG_ID,
}


@dataclass
class SecurityTenant:
    tenant: Tenant
    host: str
    users: dict[Role, User] = field(default_factory=dict)
    #: Personal API token plaintexts, one per role (nxm_...).
    tokens: dict[Role, str] = field(default_factory=dict)
    revenova_id: int = 0
    books_id: int = 0
    route_id: int = 0
    hook_url: str = ""

    @property
    def schema(self) -> str:
        return self.tenant.schema_name

    @property
    def hook_path(self) -> str:
        return urlsplit(self.hook_url).path

    @property
    def hook_token(self) -> str:
        return self.hook_path.rsplit("/", 1)[1]

    def headers(self, role: Role | None) -> dict[str, str]:
        """Request headers of a role's API token; none for anonymous."""
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def client(self, role: Role | None = None) -> Client:
        """A Django test client on the tenant's host, with the role's API token."""
        extra = {} if role is None else {"HTTP_AUTHORIZATION": f"Bearer {self.tokens[role]}"}
        return Client(HTTP_HOST=self.host, **extra)

    def desk(self, role: Role = Role.ADMIN) -> Client:
        """A signed-in browser session of the role's member (the Desk is session-only)."""
        client = Client(HTTP_HOST=self.host)
        with schema_context(self.schema):
            client.force_login(self.users[role])
        return client


def members_ensure(st: SecurityTenant) -> None:
    """One active member per role with a fresh API token (a fuzzer may have revoked one)."""
    with schema_context(st.schema):
        for role in ROLES:
            name = f"sec-{role.value.lower()}"
            user, _ = User.objects.get_or_create(
                username=name,
                defaults={"email": f"{name}@example.com", "oidc_sub": f"sub-{name}"},
            )
            if not user.is_active or not user.is_staff:
                User.objects.filter(pk=user.pk).update(is_active=True, is_staff=True)
                user.refresh_from_db()
            user_role_set(user=user, role=role)
            st.users[role] = user
            st.tokens[role] = api_token_create(user=user, name="security suite").plaintext


def connections_make(st: SecurityTenant, qbo_sandbox: SandboxProcess) -> None:
    """The Revenova source (API key), the QuickBooks target (OAuth), a route, the ingest URL."""
    editor = st.client(Role.EDITOR)
    n = next(_seeds)
    created = editor.post(
        "/api/connections/",
        {
            "connector": "revenova",
            "name": f"TMS {n}",
            "environment": "local",
            "api_key": REVENOVA_LOGIN,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    st.revenova_id = created.json()["id"]
    books = connect(st.tenant, editor, qbo_sandbox, connector="quickbooks", name=f"Books {n}")
    st.books_id = books.pk
    route = editor.post(
        "/api/routes/",
        {
            "name": f"Invoices to QuickBooks {n}",
            "source": st.revenova_id,
            "target": st.books_id,
            "mapping": MAPPING,
        },
        content_type="application/json",
    )
    assert route.status_code == 201, route.content
    st.route_id = route.json()["id"]
    hook = editor.post(f"/api/connections/{st.revenova_id}/hook/")
    assert hook.status_code == 200, hook.content
    st.hook_url = hook.json()["url"]


@contextlib.contextmanager
def security_tenant(
    slug: str, qbo_sandbox: SandboxProcess, django_db_blocker
) -> Iterator[SecurityTenant]:
    """A committed tenant ``slug`` with members, connections, a route and an ingest URL;
    dropped afterwards with its pipeline queues."""
    with django_db_blocker.unblock():
        tenant = tenant_provision(slug=slug, name=f"{slug.title()} Security Ltd").tenant
        st = SecurityTenant(tenant=tenant, host=f"{slug}.localhost")
        try:
            members_ensure(st)
            connections_make(st, qbo_sandbox)
            yield st
        finally:
            pipeline_quiet(tenant.schema_name)
            Tenant.objects.get(pk=tenant.pk).delete(force_drop=True)
