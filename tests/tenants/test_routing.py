from __future__ import annotations

from tenants.models import Tenant
from tenants.services import tenant_status_set
from tests.helpers import client_for


def test_tenant_host_reaches_its_desk(tenant_a):
    response = client_for(tenant_a).get("/admin/login/")

    assert response.status_code == 200
    assert b"Nexiom Desk" in response.content


def test_public_host_serves_the_platform_admin(db):
    response = client_for(None).get("/admin/login/")

    assert response.status_code == 200
    assert b"Nexiom platform" in response.content


def test_host_with_port_still_routes(tenant_a):
    response = client_for(tenant_a).get("/admin/login/", HTTP_HOST="alpha.localhost:8000")

    assert response.status_code == 200


def test_unknown_host_is_404_and_never_the_public_site(db):
    from django.test import Client

    response = Client(HTTP_HOST="nosuch.localhost").get("/admin/login/")

    assert response.status_code == 404
    assert b"Nexiom platform" not in response.content


def test_host_outside_the_base_domain_is_refused(db):
    from django.test import Client

    response = Client(HTTP_HOST="evil.example.com").get("/admin/login/")

    assert response.status_code in (400, 404)


def test_suspended_tenant_answers_403(tenant_a):
    tenant_status_set(tenant=tenant_a, status=Tenant.Status.SUSPENDED)

    response = client_for(tenant_a).get("/admin/login/")

    assert response.status_code == 403
    assert b"suspended" in response.content


def test_suspension_does_not_touch_other_tenants(tenant_a, tenant_b):
    tenant_status_set(tenant=tenant_a, status=Tenant.Status.SUSPENDED)

    assert client_for(tenant_b).get("/admin/login/").status_code == 200


def test_reactivated_tenant_is_served_again(tenant_a):
    tenant_status_set(tenant=tenant_a, status=Tenant.Status.SUSPENDED)
    tenant_status_set(tenant=tenant_a, status=Tenant.Status.ACTIVE)

    assert client_for(tenant_a).get("/admin/login/").status_code == 200


def test_health_endpoints_answer_on_every_known_host(tenant_a):
    for client in (client_for(None), client_for(tenant_a)):
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
