"""Shared test helpers: hosts, signed-in clients per role, members, invitations, commits.

Arrange through the real services; these helpers only save typing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Invitation, User
from accounts.roles import Role
from accounts.services import invitation_create, user_role_set
from tenants.models import Tenant

LINK_RE = re.compile(r"http://(?P<host>[^/]+)/invitations/(?P<token>[\w-]+)/")


def host_of(tenant: Tenant | None) -> str:
    """The host name a browser would use; None means the public host."""
    base = settings.NEXIOM_BASE_DOMAIN
    return base if tenant is None else f"{tenant.slug}.{base}"


def client_for(tenant: Tenant | None, **defaults) -> Client:
    """An anonymous client on the tenant's host (Python does not resolve *.localhost)."""
    return Client(HTTP_HOST=host_of(tenant), **defaults)


@contextmanager
def commit_effects() -> Iterator[list]:
    """Run ``transaction.on_commit`` effects (emails, enqueues) as a real commit would.

    Tests run inside a transaction that is rolled back, so nothing commits:
    wrap the act in this to see what a commit would send.
    """
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        yield callbacks


def member(tenant: Tenant, username: str, role: Role | None, **fields) -> User:
    """A tenant user with a role (as an OIDC login would have made them)."""
    with tenant_context(tenant):
        user = User.objects.create(
            username=username,
            email=fields.pop("email", f"{username}@example.com"),
            oidc_sub=fields.pop("oidc_sub", f"sub-{username}"),
            is_staff=True,
            **fields,
        )
        if role is not None:
            user_role_set(user=user, role=role)
        return user


def signed_in(tenant: Tenant, user: User) -> Client:
    """A client on the tenant's host with the user's session."""
    client = client_for(tenant)
    with tenant_context(tenant):
        client.force_login(user)
    return client


def client_as(tenant: Tenant, role: Role, username: str | None = None) -> Client:
    """The one way to get a signed-in client for a role: creates the member too."""
    user = member(tenant, username or f"{role.value.lower()}-{tenant.slug}", role)
    return signed_in(tenant, user)


def bearer(token_plaintext: str) -> dict[str, str]:
    """Extra request headers for a personal API token."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token_plaintext}"}


def invite(tenant: Tenant, email: str, role: Role, invited_by: User | None = None) -> str:
    """Invite through the service, committed; return the token from the email's link."""
    with tenant_context(tenant), commit_effects():
        invitation_create(email=email, role=role, invited_by=invited_by)
    match = LINK_RE.search(mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    assert match["host"] == f"{tenant.slug}.localhost:8000"
    return match["token"]


def expire_all_invitations(tenant: Tenant) -> None:
    with tenant_context(tenant):
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
