"""Tenants wired as a script would wire them, for the benchmarks and `make chaos`.

A Revenova connection with the fixture's org id, a QuickBooks connection
connected through the sandbox's OAuth, a route with the reference's item
mapping, a hook URL; and the QuickBooks sandbox with its own limits off (the
engine's limiter still runs).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_role_set
from connectors.models import Connection
from connectors.sdk.testing import SandboxProcess
from pipeline.services.hooks import hook_issue
from pipeline.services.routes import route_create
from tenants.models import Tenant
from tenants.services import tenant_provision
from tests.benchmarks.pipeline_messages import ORG_ID
from tests.benchmarks.pipeline_reference import MAPPING
from tests.connectors.flows import connect


@dataclass(frozen=True)
class Wired:
    tenant: Tenant
    revenova: Connection
    books: Connection
    hook_path: str

    @property
    def host(self) -> str:
        return f"{self.tenant.slug}.localhost"

    @property
    def schema(self) -> str:
        return self.tenant.schema_name


def wire(slug: str, sandbox: SandboxProcess) -> Wired:
    tenant = tenant_provision(slug=slug, name=slug.title()).tenant
    os.environ["QUICKBOOKS_LOCAL_URL"] = sandbox.base_url
    with schema_context(tenant.schema_name):
        editor = User.objects.create(username="ed", oidc_sub=f"sub-{slug}", is_staff=True)
        user_role_set(user=editor, role=Role.EDITOR)
        revenova = Connection.objects.create(
            connector="revenova",
            name="TMS",
            status=Connection.Status.CONNECTED,
            metadata={"org_id": ORG_ID},
        )
    client = Client(HTTP_HOST=f"{slug}.localhost")
    with schema_context(tenant.schema_name):
        client.force_login(editor)
    books = connect(tenant, client, sandbox, connector="quickbooks", name="Books")
    with schema_context(tenant.schema_name):
        route_create(name="Invoices", source=revenova, target=books, mapping=MAPPING)
        hook = hook_issue(connection=revenova)
    connection.set_schema_to_public()
    return Wired(tenant, revenova, books, "/" + hook.url.split("/", 3)[3])


def sandbox_limits_off(*, company_per_consent: bool = False) -> Iterator[SandboxProcess]:
    """A QuickBooks sandbox with its limits off, for a fixture; QUICKBOOKS_LOCAL_URL restored.
    ``company_per_consent``: each tenant connects a company of its own (its own realm, so
    its own share of the engine's per-realm limiter), as tenants do in production."""
    flags = ("--rate-limit", "off", "--concurrency", "off")
    if company_per_consent:
        flags += ("--company-per-consent",)
    process = SandboxProcess("connectors.quickbooks.sandbox", flags)
    saved = os.environ.get("QUICKBOOKS_LOCAL_URL")
    yield process
    process.stop()
    if saved is None:
        os.environ.pop("QUICKBOOKS_LOCAL_URL", None)
    else:
        os.environ["QUICKBOOKS_LOCAL_URL"] = saved
