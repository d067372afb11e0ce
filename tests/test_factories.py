"""Every model of ours has a factory, and each factory makes a valid row."""

from __future__ import annotations

import inspect

import pytest
from django.apps import apps
from django_tenants.utils import tenant_context

from tests import factories

OUR_APPS = ("tenants", "accounts", "vault", "connectors", "sync_history", "pipeline")


def _factories() -> dict:
    return {
        cls._meta.model: cls
        for _, cls in inspect.getmembers(factories, inspect.isclass)
        if issubclass(cls, factories.factory.django.DjangoModelFactory) and cls._meta.model
    }


def test_every_model_of_ours_has_a_factory():
    models = {model for label in OUR_APPS for model in apps.get_app_config(label).get_models()}

    missing = sorted(model.__name__ for model in models - set(_factories()))

    assert missing == []


@pytest.mark.parametrize(
    "factory_class",
    [
        factories.UserFactory,
        factories.InvitationFactory,
        factories.ApiTokenFactory,
        factories.SecretFactory,
        factories.SecretReadFactory,
        factories.ConnectionFactory,
        factories.AuthorizationFactory,
        factories.RouteFactory,
        factories.HookTokenFactory,
        factories.InboundMessageFactory,
        factories.ReplicaRecordFactory,
        factories.CanonicalRecordFactory,
        factories.DeliveryFactory,
        factories.CrossReferenceFactory,
        factories.SyncEventFactory,
    ],
    ids=lambda f: f.__name__,
)
def test_tenant_factories_make_rows_in_the_tenant(tenant_a, factory_class):
    with tenant_context(tenant_a):
        row = factory_class()

        assert type(row).objects.filter(pk=row.pk).exists()


def test_public_factories_make_rows(db, tenant_a):
    parked = factories.ParkedTaskFactory(tenant=tenant_a)
    domain = factories.DomainFactory(tenant=tenant_a)

    assert parked.tenant == domain.tenant == tenant_a


def test_tenant_factory_provisions_a_real_schema(db):
    tenant = factories.TenantFactory(slug="factoryco")

    with tenant_context(tenant):
        assert factories.UserFactory(role=factories.Role.VIEWER).role == factories.Role.VIEWER


def test_connected_connection_has_sealed_credentials(tenant_a):
    with tenant_context(tenant_a):
        connection = factories.ConnectionFactory(connected=True)

        assert connection.status == "connected"
        assert connection.credentials is not None
        assert connection.access_fingerprint
