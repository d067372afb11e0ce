"""Tenants wired as a script would wire them: for the pipeline tests, the benchmarks and
`make chaos`.

A Revenova connection with the fixture's org id, a QuickBooks connection
connected through the sandbox's OAuth, a route with an item mapping a real
QuickBooks company needs, a hook URL; and the QuickBooks sandbox with its own
limits off (the engine's limiter still runs).
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
from connectors.sdk.testing import CALLBACK, SandboxProcess, authorize, basic
from pipeline.models import Route
from pipeline.services.hooks import hook_issue
from pipeline.services.routes import route_create
from tenants.models import Tenant
from tenants.services import tenant_provision
from tests.benchmarks.pipeline_messages import ORG_ID
from tests.connectors.flows import connect

MAPPING = {
    "items": {
        "line_haul": {"value": "21", "name": "Linehaul"},
        "fuel_surcharge": {"value": "22", "name": "Fuel Surcharge"},
        "accessorial": {"value": "23", "name": "Accessorials"},
        "discount": {"value": "24", "name": "Discounts"},
    },
    "tax_code": "TAX",
}


@dataclass
class Wired:
    """A wired tenant; a test that re-issues the hook sets ``hook_path`` anew."""

    tenant: Tenant
    revenova: Connection
    books: Connection
    route: Route
    hook_path: str

    @property
    def host(self) -> str:
        return f"{self.tenant.slug}.localhost"

    @property
    def schema(self) -> str:
        return self.tenant.schema_name

    def post(self, body: bytes, content_type: str = "text/xml; charset=utf-8", path: str = ""):
        return Client(HTTP_HOST=self.host).post(
            path or self.hook_path, body, content_type=content_type
        )


def tenant_wire(slug: str, sandbox: SandboxProcess) -> Wired:
    """A committed tenant ``slug``: Revenova in, the sandbox's QuickBooks out, a route, a hook."""
    tenant = tenant_provision(slug=slug, name=f"{slug.title()} Freight").tenant
    os.environ["QUICKBOOKS_LOCAL_URL"] = sandbox.base_url  # where the connector's local env goes
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
        route = route_create(
            name="Invoices to QuickBooks", source=revenova, target=books, mapping=MAPPING
        )
        hook = hook_issue(connection=revenova)
    connection.set_schema_to_public()
    return Wired(tenant, revenova, books, route, "/" + hook.url.split("/", 3)[3])


def sandbox_limits_off(*, company_per_consent: bool = False) -> Iterator[SandboxProcess]:
    """A QuickBooks sandbox with its limits off, for a fixture; QUICKBOOKS_LOCAL_URL restored.
    ``company_per_consent``: each tenant connects a company of its own (its own realm, so
    its own share of the engine's per-realm limiter), as tenants do in production."""
    flags = ("--rate-limit", "off", "--concurrency", "off")
    if company_per_consent:
        flags += ("--company-per-consent",)
    process = SandboxProcess("connectors.quickbooks.sandbox", flags)
    saved = os.environ.get("QUICKBOOKS_LOCAL_URL")
    os.environ["QUICKBOOKS_LOCAL_URL"] = process.base_url
    yield process
    process.stop()
    if saved is None:
        os.environ.pop("QUICKBOOKS_LOCAL_URL", None)
    else:
        os.environ["QUICKBOOKS_LOCAL_URL"] = saved


@dataclass(frozen=True)
class SandboxCompany:
    realm: str
    base_url: str
    access_token: str
    customer_id: str


def sandbox_company(sandbox: SandboxProcess, customer: str) -> SandboxCompany:
    """A company of the sandbox reached without Nexiom (consent and token exchange by hand),
    with one customer."""
    params = authorize(
        sandbox,
        path="/oauth/authorize",
        client_id="nexiom-dev-quickbooks",
        scope="com.intuit.quickbooks.accounting",
    )
    tokens = sandbox.http.post(
        sandbox.url("/oauth/token"),
        data={"grant_type": "authorization_code", "code": params["code"], "redirect_uri": CALLBACK},
        headers=basic("nexiom-dev-quickbooks", "dev-secret-quickbooks"),
        timeout=5,
    ).json()
    realm = params["realmId"]
    base = sandbox.url(f"/v3/company/{realm}")
    created = sandbox.http.post(
        f"{base}/customer",
        params={"minorversion": "75"},
        json={"DisplayName": customer},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    ).json()["Customer"]
    return SandboxCompany(realm, base, tokens["access_token"], created["Id"])
