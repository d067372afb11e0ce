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
        metadata = kwargs.pop("metadata", {"realmId": "9341453908059321"})
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
