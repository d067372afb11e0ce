"""Operators manage tenants in the platform admin on the public host."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_exists

from tenants.models import Tenant
from tests.factories import UserFactory
from tests.helpers import client_for


@pytest.fixture
def operator_client(db):
    operator = UserFactory(username="operator", is_staff=True, is_superuser=True)
    client = client_for(None)
    client.force_login(operator)
    return client


def test_operator_sees_tenants_but_not_the_platform_row(operator_client):
    response = operator_client.get("/admin/tenants/tenant/")

    assert response.status_code == 200
    assert b"alpha.localhost:8000/admin/" in response.content
    assert b"Nexiom platform" in response.content  # site header, not a row
    assert b">public<" not in response.content


def test_operator_provisions_a_tenant_from_the_admin(operator_client):
    response = operator_client.post(
        "/admin/tenants/tenant/add/", {"slug": "gamma", "name": "Gamma Logistics"}
    )

    assert response.status_code == 302
    assert Tenant.objects.get(slug="gamma").name == "Gamma Logistics"
    assert schema_exists("gamma")


def test_admin_form_refuses_a_bad_slug_with_the_reason(operator_client):
    response = operator_client.post("/admin/tenants/tenant/add/", {"slug": "api", "name": "x"})

    assert response.status_code == 200
    assert b"reserved by the platform" in response.content
    assert not Tenant.objects.filter(name="x").exists()


def test_operator_suspends_and_reactivates(operator_client, tenant_a):
    operator_client.post(
        "/admin/tenants/tenant/",
        {"action": "suspend", "_selected_action": [tenant_a.pk]},
    )
    assert Tenant.objects.get(pk=tenant_a.pk).status == "suspended"

    operator_client.post(
        "/admin/tenants/tenant/",
        {"action": "activate", "_selected_action": [tenant_a.pk]},
    )
    assert Tenant.objects.get(pk=tenant_a.pk).status == "active"


def test_tenant_superuser_cannot_use_the_platform_admin(tenant_a):
    from django_tenants.utils import schema_context

    with schema_context(tenant_a.schema_name):
        boss = UserFactory(username="boss-a", is_staff=True, is_superuser=True)
    client = client_for(None)
    client.cookies = client_for(tenant_a).cookies
    with schema_context(tenant_a.schema_name):
        tenant_client = client_for(tenant_a)
        tenant_client.force_login(boss)
    client.cookies = tenant_client.cookies

    response = client.get("/admin/tenants/tenant/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
