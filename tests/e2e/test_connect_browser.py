"""In a real browser: an Editor adds a QuickBooks connection in the Desk, clicks Connect,
approves at the QuickBooks sandbox and lands on the connection, connected, with its realm."""

from __future__ import annotations

import os

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_role_set
from connectors.models import Connection
from connectors.sdk.testing import SandboxProcess
from tenants.models import Tenant
from tenants.services import tenant_provision

pytestmark = [pytest.mark.browser]


@pytest.fixture
def connect_tenant(django_db_blocker):
    with django_db_blocker.unblock():
        tenant = tenant_provision(slug="connectco", name="Connect Co").tenant
        with schema_context(tenant.schema_name):
            editor = User.objects.create(username="eddie", oidc_sub="sub-eddie", is_staff=True)
            user_role_set(user=editor, role=Role.EDITOR)
        yield tenant, editor
        Tenant.objects.get(pk=tenant.pk).delete(force_drop=True)


@pytest.fixture
def quickbooks_sandbox():
    process = SandboxProcess("connectors.quickbooks.sandbox", ())
    saved = os.environ.get("QUICKBOOKS_LOCAL_URL")
    os.environ["QUICKBOOKS_LOCAL_URL"] = process.base_url
    yield process
    process.stop()
    if saved is None:
        os.environ.pop("QUICKBOOKS_LOCAL_URL")
    else:
        os.environ["QUICKBOOKS_LOCAL_URL"] = saved


def test_connect_to_quickbooks_from_the_desk(
    browser, live_server_url, connect_tenant, quickbooks_sandbox, settings, django_db_blocker
):
    tenant, editor = connect_tenant
    port = int(live_server_url.split(":")[1])
    settings.NEXIOM_PUBLIC_PORT = port  # the callback and the way back use the live server
    base = f"http://connectco.localhost:{port}"
    with django_db_blocker.unblock(), schema_context(tenant.schema_name):
        signed_in = Client(HTTP_HOST="connectco.localhost")
        signed_in.force_login(editor)
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": signed_in.cookies["sessionid"].value,
                "url": base,
            }
        ]
    )
    page = context.new_page()

    page.goto(f"{base}/admin/connectors/connection/add/")
    page.click("#choose-quickbooks")
    page.fill("#id_name", "Our books")
    page.click("input[name=_save]")
    page.click("#connect")
    page.wait_for_selector("#approve")  # the sandbox's consent page
    assert "QuickBooks" in page.title()
    page.click("#approve")
    page.wait_for_url(f"{base}/admin/connectors/connection/*/change/?oauth=connected")

    text = page.inner_text("body")
    assert "Connected." in text
    assert "realm 9341453908059321" in text
    assert page.locator('.nexiom-badge[data-status="connected"]').count() == 1
    with django_db_blocker.unblock(), schema_context(tenant.schema_name):
        connection = Connection.objects.get(name="Our books")
        assert (connection.status, connection.realm_id) == ("connected", "9341453908059321")
    context.close()
