"""Whole OAuth connects driven like a browser: tenant API → sandbox consent → public callback."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from django.test import Client
from django_tenants.utils import tenant_context

from connectors.models import Connection
from connectors.sdk.testing import SandboxProcess, read_consent
from tenants.models import Tenant
from tests.helpers import client_for


def consent(sandbox: SandboxProcess, authorize_url: str, *, decision: str = "approve") -> str:
    """Open the sandbox's consent page, press a button; return where it redirects (the callback)."""
    page = sandbox.http.get(authorize_url, allow_redirects=False, timeout=10)
    if page.status_code == 302:
        return page.headers["Location"]
    assert page.status_code == 200, page.text
    form = read_consent(page.text)
    action = form.action or urlsplit(authorize_url).path
    response = sandbox.http.post(
        sandbox.url(action) if action.startswith("/") else action,
        data={**form.fields, "decision": decision},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def callback(location: str) -> requests.Response:
    """Deliver the provider's redirect to the central callback on the public host."""
    parts = urlsplit(location)
    assert parts.path.startswith("/api/callback/"), location
    return client_for(None).get(f"{parts.path}?{parts.query}")


def start(client: Client, *, connector: str, name: str) -> tuple[int, str]:
    """Create a connection through the API and start its authorization: (id, authorize URL)."""
    created = client.post(
        "/api/connections/",
        {"connector": connector, "name": name, "environment": "local"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    started = client.post(f"/api/connections/{pk}/authorize/")
    assert started.status_code == 200, started.content
    return pk, started.json()["authorize_url"]


def connect(
    tenant: Tenant, client: Client, sandbox: SandboxProcess, *, connector: str, name: str
) -> Connection:
    """Create a connection through the API and complete its authorization; return the row."""
    pk, authorize_url = start(client, connector=connector, name=name)
    back = callback(consent(sandbox, authorize_url))
    assert back.status_code == 302, back.content
    with tenant_context(tenant):
        return Connection.objects.get(pk=pk)
