"""factory-boy factories, one per model of ours; they write in whatever schema is active.

Where a model is written through a service (secrets, tokens, invitations,
connections, tenants), the factory calls that service, so a test arranges
data exactly as the product would. Third-party models (django-axes,
django-celery-beat) have none: tests reach them through the pages that use them.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import ApiToken, Invitation, User
from accounts.roles import Role
from accounts.services import api_token_create, invitation_create, user_role_set
from connectors.models import Authorization, Connection, ConnectionStatus
from connectors.services import connection_create
from connectors.services.credentials import credentials_store
from pipeline.models import (
    CanonicalRecord,
    CrossReference,
    Delivery,
    HookToken,
    InboundMessage,
    ReplicaRecord,
    Route,
)
from pipeline.services.hooks import hook_issue
from sync_history.models import SyncEvent
from tenants.models import Domain, ParkedTask, Tenant
from tenants.services import tenant_provision
from vault.models import Secret, SecretRead
from vault.services import secret_seal


class TenantFactory(factory.django.DjangoModelFactory):
    """A real tenant: schema created and migrated (slow: prefer alpha and beta when they do)."""

    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"tenant{n}")
    name = factory.LazyAttribute(lambda t: f"{t.slug.title()} Logistics")

    @classmethod
    def _create(cls, model_class, *, slug: str, name: str, **kwargs) -> Tenant:
        return tenant_provision(slug=slug, name=name).tenant


class DomainFactory(factory.django.DjangoModelFactory):
    """An extra host for a tenant (provisioning already gives each tenant one)."""

    class Meta:
        model = Domain

    domain = factory.Sequence(lambda n: f"extra{n}.localhost")
    tenant = factory.SubFactory(TenantFactory)
    is_primary = False


class ParkedTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ParkedTask

    tenant = factory.SubFactory(TenantFactory)
    task_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    task_name = "tests.noop"
    signature = factory.LazyAttribute(lambda p: {"task": p.task_name, "args": [], "kwargs": {}})


class UserFactory(factory.django.DjangoModelFactory):
    """A tenant user; pass ``role=Role.EDITOR`` to give one (as an Admin would)."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def role(user: User, create: bool, extracted: Role | None, **kwargs) -> None:
        if create and extracted is not None:
            user_role_set(user=user, role=extracted)


class InvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation, made (and emailed on commit) by the service."""

    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.VIEWER
    invited_by = None

    @classmethod
    def _create(cls, model_class, *, email: str, role: Role, invited_by: User | None, **kw):
        return invitation_create(email=email, role=role, invited_by=invited_by)


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A personal token; its plaintext is on ``.plaintext`` (shown once, as in the product)."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"script {n}")
    expires_in_days = 30

    @classmethod
    def _create(cls, model_class, *, user: User, name: str, expires_in_days: int, **kwargs):
        created = api_token_create(user=user, name=name, expires_in_days=expires_in_days)
        created.token.plaintext = created.plaintext
        return created.token


class SecretFactory(factory.django.DjangoModelFactory):
    """A sealed secret of the current tenant."""

    class Meta:
        model = Secret

    data = factory.LazyFunction(lambda: {"api_key": f"sk_test_{uuid.uuid4().hex}"})
    purpose = "tests.api_key"

    @classmethod
    def _create(cls, model_class, *, data: dict, purpose: str, **kwargs) -> Secret:
        return secret_seal(data=data, purpose=purpose)


class SecretReadFactory(factory.django.DjangoModelFactory):
    """An audit row as a reveal leaves it (for pages that list the audit)."""

    class Meta:
        model = SecretRead

    secret = factory.SubFactory(SecretFactory)
    secret_ref = factory.LazyAttribute(lambda r: r.secret.pk)
    purpose = factory.LazyAttribute(lambda r: r.secret.purpose)
    actor_kind = SecretRead.ActorKind.PROCESS
    actor_label = "tests"
    reason = "a test reads it"


class ConnectionFactory(factory.django.DjangoModelFactory):
    """A connection made by the service; ``connected=True`` also seals a token set for it."""

    class Meta:
        model = Connection

    connector = "quickbooks"
    name = factory.Sequence(lambda n: f"Books {n}")
    environment = "local"

    @classmethod
    def _create(cls, model_class, *, connector: str, name: str, environment: str, **kwargs):
        connected = kwargs.pop("connected", False)
        default_metadata = (
            {"org_id": "00D5e000000KqTzEAK"}
            if connector == "revenova"
            else {"realmId": "9341453908059321"}
        )
        metadata = kwargs.pop("metadata", default_metadata)
        if connector == "revenova":
            # API-key connectors log in when created; a factory row skips the login.
            connection = Connection.objects.create(
                connector=connector, name=name, environment=environment, metadata=metadata
            )
        else:
            connection = connection_create(connector=connector, name=name, environment=environment)
        if connected:
            credentials_store(
                connection=connection,
                secrets={
                    "access_token": f"at-{uuid.uuid4().hex}",
                    "refresh_token": f"rt-{uuid.uuid4().hex}",
                },
            )
            connection.metadata = metadata
            connection.status = ConnectionStatus.CONNECTED
            connection.access_expires_at = timezone.now() + timedelta(hours=1)
            connection.save()
        return connection


class AuthorizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Authorization

    connection = factory.SubFactory(ConnectionFactory)
    nonce = factory.LazyFunction(lambda: uuid.uuid4().hex)
    redirect_uri = "http://localhost:8000/api/callback/quickbooks"


class RouteFactory(factory.django.DjangoModelFactory):
    """A route between two connections (written as a row; ``route_create`` checks more)."""

    class Meta:
        model = Route

    name = factory.Sequence(lambda n: f"Route {n}")
    source = factory.SubFactory(ConnectionFactory, connector="revenova", environment="local")
    target = factory.SubFactory(ConnectionFactory)
    mapping = factory.LazyFunction(
        lambda: {"items": {"line_haul": "21", "fuel_surcharge": "22", "accessorial": "23"}}
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create(*args, **kwargs)


class HookTokenFactory(factory.django.DjangoModelFactory):
    """A live ingest token (its plaintext on ``.token``), issued by the service."""

    class Meta:
        model = HookToken

    connection = factory.SubFactory(ConnectionFactory)

    @classmethod
    def _create(cls, model_class, *, connection, **kwargs):
        issued = hook_issue(connection=connection)
        hook = HookToken.objects.get(connection=connection, revoked_at__isnull=True)
        hook.token, hook.url = issued.token, issued.url
        return hook


class InboundMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundMessage

    connection = factory.SubFactory(ConnectionFactory)
    content_type = "text/xml"
    body = b"<notifications/>"
    body_size = 16
    dedupe_key = factory.LazyFunction(lambda: uuid.uuid4().hex)


class ReplicaRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReplicaRecord

    connection = factory.SubFactory(ConnectionFactory)
    object_type = "rtms__CustomerInvoice__c"
    external_id = factory.Sequence(lambda n: f"a0B5e00000{n:08d}")
    source_version = "2026-11-01T10:00:00.000Z"
    data = factory.LazyFunction(dict)


class CanonicalRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CanonicalRecord

    replica = factory.SubFactory(ReplicaRecordFactory)
    kind = "invoice"
    source_version = factory.LazyAttribute(lambda c: c.replica.source_version)
    data = factory.LazyFunction(dict)


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    canonical = factory.SubFactory(CanonicalRecordFactory)
    route = factory.SubFactory(RouteFactory)
    source_version = factory.LazyAttribute(lambda d: d.canonical.source_version)


class CrossReferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CrossReference

    connection = factory.SubFactory(ConnectionFactory)
    object_type = "customer"
    source_id = factory.Sequence(lambda n: f"0015e00000{n:08d}")
    target_id = factory.Sequence(lambda n: str(100 + n))


class SyncEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncEvent

    layer = SyncEvent.Layer.GATEWAY
    status = SyncEvent.Status.RECEIVED
