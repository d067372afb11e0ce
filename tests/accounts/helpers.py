"""Arrange tenant users and invitations through the real services."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Invitation, User
from accounts.roles import Role
from accounts.services import invitation_create, user_role_set
from tenants.models import Tenant

LINK_RE = re.compile(r"http://(?P<host>[^/]+)/invitations/(?P<token>[\w-]+)/")


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


def invite(tenant: Tenant, email: str, role: Role, invited_by: User | None = None) -> str:
    """Invite through the service; return the token from the email's link."""
    with tenant_context(tenant):
        invitation_create(email=email, role=role, invited_by=invited_by)
    match = LINK_RE.search(mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    assert match["host"] == f"{tenant.slug}.localhost:8000"
    return match["token"]


def expire_all_invitations(tenant: Tenant) -> None:
    with tenant_context(tenant):
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
