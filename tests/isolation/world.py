"""Two committed tenants for the isolation sweep: A (``amberqz``) full of data, B (``bluewx``).

A's data is made the way the product makes it: users with each role, personal
tokens, invitations, connections of every connector authorized against their
sandboxes (OAuth consent and the public callback, or the API-key login), a
route, hook URLs, one real message through all five pipeline layers (gateway
over HTTP, then L2-L5 called in-process), a Desk edit (admin log), a session.

Two things make a leak visible:
- every name, email and free text of A carries ``MARK`` ("amberqz");
- A's sequences start at ``A_ID_BASE`` after provisioning, so every id of A's
  data exists in A only: B answering 200 for it could only be A's row.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import redis
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, models
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.roles import Role
from accounts.services import api_token_create
from accounts.services.users import breakglass_superuser_ensure
from connectors.models import Connection
from connectors.sdk.testing import SandboxProcess
from pipeline.models import InboundMessage
from pipeline.services.delivery import deliveries_send
from pipeline.services.hooks import hook_issue
from pipeline.services.normalize import replicas_normalize
from pipeline.services.outbound import canonicals_route
from pipeline.services.replica import messages_parse
from pipeline.services.routes import route_create
from tenants.models import Tenant
from tenants.services import tenant_provision
from tests.connectors.flows import connect
from tests.factories import (
    ConnectionFactory,
    CrossReferenceFactory,
    HookTokenFactory,
    RouteFactory,
    SyncEventFactory,
)
from tests.helpers import invite, member, signed_in
from tests.pipeline.conftest import MAPPING, celery_queues
from tests.pipeline.support import ACK, invoice, message, tag

A_SLUG, B_SLUG = "amberqz", "bluewx"
#: In every name, email and text of A's data: found in a body of B, it is a leak.
MARK = "amberqz"
#: A's ids start here; B's stay small, so an id of A names nothing in B.
A_ID_BASE = 7_100_000
#: Text fields whose values are random per row: seen in B, they are A's.
UNIQUE_TEXT = frozenset({"prefix", "nonce", "correlation_id", "token_hash"})
REVENOVA_KEY = {
    "username": "integration@demo-freight.example",
    "password": "dev-password-revenova",
    "security_token": "devSecurityToken123",
    "org_id": "00D5e000000KqTzEAK",
}


@dataclass
class Side:
    """One tenant of the sweep and what a script or a browser of it holds."""

    tenant: Tenant
    host: str
    admin: User
    breakglass: User  # the platform's superuser of this tenant: every Desk permission
    token: str  # the Admin's personal API token, plaintext
    role_tokens: dict[Role, str] = field(default_factory=dict)  # every member's token
    hook_tokens: list[str] = field(default_factory=list)  # plaintexts, live one last
    invitation_tokens: list[str] = field(default_factory=list)
    connections: dict[str, int] = field(default_factory=dict)  # connector -> id


@dataclass
class World:
    a: Side
    b: Side
    #: strings of A that must never reach B: MARK, A's UUIDs, token prefixes and secrets
    secrets: set[str]
    #: every primary key of A's rows made after the bump (all >= A_ID_BASE)
    a_ids: set[int]

    def leaks(self, body: str, *, request_path: str = "") -> list[str]:
        """A's markers in ``body``; what the request itself carried is an echo, not a leak."""
        found = [s for s in self.secrets if s.lower() in body.lower()]
        found += [n for n in re.findall(r"(?<!\d)(\d{7})(?!\d)", body) if int(n) in self.a_ids]
        return sorted({f for f in found if f.lower() not in request_path.lower()})


def tenant_app_labels() -> set[str]:
    """The labels of settings.TENANT_APPS (entries name an app or its AppConfig class)."""
    labels = set()
    for config in apps.get_app_configs():
        dotted = f"{type(config).__module__}.{type(config).__name__}"
        if config.name in settings.TENANT_APPS or dotted in settings.TENANT_APPS:
            labels.add(config.label)
    return labels


def tenant_models() -> list[type[models.Model]]:
    """Every model whose table is in a tenant's schema (m2m through tables aside)."""
    labels = tenant_app_labels()
    return [m for m in apps.get_models() if m._meta.app_label in labels]


def _sequences_bump(schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = %s", [schema])
        for (name,) in cursor.fetchall():
            cursor.execute("SELECT setval(%s, %s, false)", [f'"{schema}"."{name}"', A_ID_BASE])


def _provision(slug: str) -> Tenant:
    return tenant_provision(slug=slug, name=f"{slug.title()} Freight").tenant


def _side(tenant: Tenant, slug: str) -> Side:
    """An Admin, an Editor and a Viewer (emails carry the slug), each with a personal
    token, and a pending invitation."""
    tokens = {}
    for role in Role:
        user = member(
            tenant, f"{role.value.lower()}-{slug}", role, email=f"{role.value}@{slug}.example"
        )
        with tenant_context(tenant):
            tokens[role] = api_token_create(user=user, name=f"{slug} {role.value} script")
    admin = tokens[Role.ADMIN].token.user
    with tenant_context(tenant):
        breakglass = breakglass_superuser_ensure(
            username=f"breakglass-{slug}", email=f"breakglass@{slug}.example"
        ).user
    side = Side(
        tenant=tenant,
        host=f"{slug}.localhost",
        admin=admin,
        breakglass=breakglass,
        token=tokens[Role.ADMIN].plaintext,
        role_tokens={role: created.plaintext for role, created in tokens.items()},
    )
    side.invitation_tokens.append(invite(tenant, f"invitee@{slug}.example", Role.VIEWER, admin))
    return side


def _pipeline_run(side: Side, client: Client) -> None:
    """One invoice of A from the gateway (HTTP) to QuickBooks (L2-L5 in-process)."""
    raw = message([invoice(tag(), 1, customer=f"{MARK.title()} Shipper Inc")])
    hook_path = "/hooks/" + side.hook_tokens[-1]
    acked = client.post(hook_path, raw, content_type="text/xml; charset=utf-8")
    assert acked.content == ACK, acked.content
    with tenant_context(side.tenant):
        message_ids = list(InboundMessage.objects.values_list("pk", flat=True))
        deliveries = canonicals_route(
            canonical_ids=replicas_normalize(replica_ids=messages_parse(message_ids=message_ids))
        )
        assert deliveries, "the route produced no delivery"
        assert deliveries_send(delivery_ids=deliveries) == []


def _a_seed(tenant: Tenant, qbo: SandboxProcess, sf: SandboxProcess) -> Side:
    side = _side(tenant, A_SLUG)
    client = signed_in(tenant, side.admin)  # also A's session row
    books = connect(tenant, client, qbo, connector="quickbooks", name=f"{MARK.title()} Books")
    crm = connect(tenant, client, sf, connector="salesforce", name=f"{MARK.title()} CRM")
    created = client.post(
        "/api/connections/",
        {"connector": "revenova", "name": f"{MARK.title()} TMS", "api_key": REVENOVA_KEY},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    side.connections = {
        "quickbooks": books.pk,
        "salesforce": crm.pk,
        "revenova": created.json()["id"],
    }
    with tenant_context(tenant):
        tms = Connection.objects.get(pk=side.connections["revenova"])
        route_create(name=f"{MARK.title()} invoices", source=tms, target=books, mapping=MAPPING)
        # Two hook URLs: the first is revoked by the second, both must stay A's.
        side.hook_tokens = [hook_issue(connection=tms).token, hook_issue(connection=tms).token]
        # Tenant Admins may not add groups; an operator's extra group is data all the same.
        Group.objects.create(name=f"{MARK.title()} auditors")
    # The admin log: an Admin renames a connection in the Desk.
    renamed = client.post(
        f"/admin/connectors/connection/{books.pk}/change/", {"name": f"{MARK.title()} Books Online"}
    )
    assert renamed.status_code == 302, renamed.content
    _pipeline_run(side, client)
    side.invitation_tokens.append(invite(tenant, f"second@{A_SLUG}.example", Role.EDITOR))
    return side


def _b_seed(tenant: Tenant) -> Side:
    """B has data of every kind too, so its lists are not trivially empty."""
    side = _side(tenant, B_SLUG)
    signed_in(tenant, side.admin)
    with tenant_context(tenant):
        tms = ConnectionFactory(connector="revenova", name="Bluewx TMS", connected=True)
        books = ConnectionFactory(name="Bluewx Books", connected=True)
        RouteFactory(name="Bluewx invoices", source=tms, target=books)
        side.hook_tokens.append(HookTokenFactory(connection=tms).token)
        CrossReferenceFactory(connection=books)
        SyncEventFactory(connection_id=tms.pk, reference="Bluewx-0001")
        Group.objects.create(name="Bluewx auditors")
        side.connections = {"revenova": tms.pk, "quickbooks": books.pk}
    return side


def _a_markers(side: Side) -> tuple[set[str], set[int]]:
    secrets = {MARK, *side.hook_tokens, *side.invitation_tokens, *side.role_tokens.values()}
    ids: set[int] = set()
    with tenant_context(side.tenant):
        for model in tenant_models():
            for row in model._base_manager.all():
                if isinstance(row.pk, int) and row.pk >= A_ID_BASE:
                    ids.add(row.pk)
                for f in model._meta.concrete_fields:
                    value = getattr(row, f.attname)
                    distinctive = isinstance(f, models.UUIDField) or f.name in UNIQUE_TEXT
                    if distinctive and value:
                        secrets.add(str(value))
    return secrets, ids


def world_build(qbo: SandboxProcess, sf: SandboxProcess) -> World:
    """Provision and seed both tenants, committed (callers drop them with ``world_drop``)."""
    a_tenant, b_tenant = _provision(A_SLUG), _provision(B_SLUG)
    _sequences_bump(a_tenant.schema_name)
    # The gateway queues L2 after its commit: keep those task messages off shared queues.
    private = f"tests-isolation-{uuid.uuid4().hex[:8]}"
    celery_queues(private, private)
    try:
        a, b = _a_seed(a_tenant, qbo, sf), _b_seed(b_tenant)
    finally:
        celery_queues("celery", "delivery")
        _redis_forget(private, a_tenant.schema_name)
    secrets, ids = _a_markers(a)
    return World(a=a, b=b, secrets=secrets, a_ids=ids)


def _redis_forget(queue: str, schema: str) -> None:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = [queue, *client.scan_iter(f"nexiom:pipeline:{schema}:*")]
    client.delete(*keys)


def world_drop() -> None:
    for slug in (A_SLUG, B_SLUG):
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is not None:
            tenant.delete(force_drop=True)


def rows_snapshot(tenant: Tenant) -> dict[str, list[str]]:
    """Every row of every tenant model, as text: what a refused request must leave alone."""
    with tenant_context(tenant):
        return {
            model._meta.label: sorted(
                repr([bytes(v) if isinstance(v, memoryview) else v for v in row])
                for row in model._base_manager.values_list(
                    *(f.attname for f in model._meta.concrete_fields)
                )
            )
            for model in tenant_models()
        }
