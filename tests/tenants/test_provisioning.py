from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context, schema_exists

from accounts.models import User
from tenants.models import Domain, Tenant
from tenants.services import TenantSlugError, tenant_provision

HOSTILE_SLUGS = [
    "public",
    "www",
    "admin",
    "api",
    "",
    "   ",
    "a",
    "a_b",
    "-abc",
    "abc-",
    "a--b",
    "ab.cd",
    "ab cd",
    "x" * 41,
    "café",
    "pg-catalog",
    "acme;drop schema public",
    "../etc",
    "acme\n",
    "'acme'",
    '"acme"',
    "1acme",
    "acme/evil",
]


def test_provisioning_creates_schema_domain_and_url(db):
    result = tenant_provision(slug="gamma", name="Gamma Logistics")

    assert result.created is True
    assert result.url == "http://gamma.localhost:8000/"
    assert schema_exists("gamma")
    assert list(Domain.objects.filter(tenant=result.tenant).values_list("domain", flat=True)) == [
        "gamma.localhost"
    ]
    with schema_context("gamma"):
        assert User.objects.count() == 0  # tenant tables exist and are its own


def test_provisioning_twice_is_safe(db):
    first = tenant_provision(slug="gamma", name="Gamma Logistics")
    with schema_context("gamma"):
        User.objects.create(username="kept")

    second = tenant_provision(slug="gamma", name="Another name")

    assert second.created is False
    assert second.tenant.pk == first.tenant.pk
    assert second.tenant.name == "Gamma Logistics"
    assert Tenant.objects.filter(slug="gamma").count() == 1
    assert Domain.objects.filter(domain="gamma.localhost").count() == 1
    with schema_context("gamma"):
        assert User.objects.filter(username="kept").exists()


def test_reprovisioning_restores_a_missing_domain(db):
    tenant_provision(slug="gamma", name="Gamma Logistics")
    Domain.objects.filter(domain="gamma.localhost").delete()

    tenant_provision(slug="gamma", name="Gamma Logistics")

    assert Domain.objects.filter(domain="gamma.localhost").exists()


def test_hyphenated_slug_gets_an_underscored_schema(db):
    result = tenant_provision(slug="north-star", name="North Star")

    assert result.tenant.schema_name == "north_star"
    assert schema_exists("north_star")
    assert Domain.objects.filter(domain="north-star.localhost").exists()


def test_uppercase_slug_is_normalised(db):
    result = tenant_provision(slug="Gamma", name="Gamma Logistics")

    assert result.tenant.slug == "gamma"


@pytest.mark.parametrize("slug", HOSTILE_SLUGS)
def test_bad_and_reserved_slugs_are_refused_and_create_nothing(db, slug):
    tenants_before = Tenant.objects.count()
    domains_before = Domain.objects.count()

    with pytest.raises(TenantSlugError):
        tenant_provision(slug=slug, name="Hostile")

    assert Tenant.objects.count() == tenants_before
    assert Domain.objects.count() == domains_before


def test_reserved_slug_message_names_the_reason(db):
    with pytest.raises(TenantSlugError, match="reserved"):
        tenant_provision(slug="admin", name="x")


def test_failure_midway_leaves_no_schema_and_no_domain(db, tenant_a):
    # An operator already pointed delta's host at alpha: the domain step fails
    # after the schema was created and migrated.
    Domain.objects.create(domain="delta.localhost", tenant=tenant_a, is_primary=False)

    with pytest.raises(TenantSlugError, match="already belongs to tenant 'alpha'"):
        tenant_provision(slug="delta", name="Delta")

    assert not Tenant.objects.filter(slug="delta").exists()
    assert not schema_exists("delta")
    assert Domain.objects.get(domain="delta.localhost").tenant == tenant_a


def test_command_prints_the_tenant_url(db, capsys):
    call_command("provision_tenant", "gamma", name="Gamma Logistics")

    out = capsys.readouterr().out
    assert "Tenant gamma created." in out
    assert "Tenant URL: http://gamma.localhost:8000/" in out


def test_command_rerun_says_it_already_existed(db, capsys):
    call_command("provision_tenant", "alpha", name="Alpha Freight Ltd")

    assert "already existed" in capsys.readouterr().out


def test_command_refuses_a_reserved_slug_clearly(db):
    with pytest.raises(CommandError, match="The slug 'public' is reserved"):
        call_command("provision_tenant", "public", name="Sneaky")


def test_command_requires_a_name(db):
    with pytest.raises(CommandError):
        call_command("provision_tenant", "gamma", name="  ")
