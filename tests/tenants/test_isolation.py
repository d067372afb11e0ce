"""A row written in tenant A is invisible from tenant B: ORM and HTTP."""

from __future__ import annotations

from django_tenants.utils import schema_context

from accounts.models import User
from tests.factories import UserFactory
from tests.helpers import client_for


def test_orm_row_of_a_is_invisible_in_b(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        UserFactory(username="only-in-alpha")

    with schema_context(tenant_b.schema_name):
        assert not User.objects.filter(username="only-in-alpha").exists()
        assert User.objects.count() == 0
    with schema_context(tenant_a.schema_name):
        assert User.objects.filter(username="only-in-alpha").count() == 1


def test_desk_of_b_does_not_list_a_users(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        UserFactory(username="only-in-alpha")
    with schema_context(tenant_b.schema_name):
        boss_b = UserFactory(username="boss-b", is_staff=True, is_superuser=True)
    client_b = client_for(tenant_b)
    with schema_context(tenant_b.schema_name):
        client_b.force_login(boss_b)

    response = client_b.get("/admin/accounts/user/")

    assert response.status_code == 200
    assert b"boss-b" in response.content
    assert b"only-in-alpha" not in response.content


def test_session_of_a_is_not_valid_on_b(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        boss_a = UserFactory(username="boss-a", is_staff=True, is_superuser=True)
    client_a = client_for(tenant_a)
    with schema_context(tenant_a.schema_name):
        client_a.force_login(boss_a)
    assert client_a.get("/admin/accounts/user/").status_code == 200

    stolen = client_for(tenant_b)
    stolen.cookies = client_a.cookies
    response = stolen.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_desk_never_shows_platform_models(tenant_a):
    with schema_context(tenant_a.schema_name):
        boss = UserFactory(username="boss-a", is_staff=True, is_superuser=True)
    client = client_for(tenant_a)
    with schema_context(tenant_a.schema_name):
        client.force_login(boss)

    assert client.get("/admin/tenants/tenant/").status_code == 404
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 404
    index = client.get("/admin/")
    assert b"Tenants" not in index.content
    assert b"Periodic tasks" not in index.content
