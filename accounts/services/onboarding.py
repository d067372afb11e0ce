"""Onboarding a company: provision its tenant, then invite its first Admin, as one unit.

Provisioning belongs to the tenants layer, invitations to this one; the
whole onboarding is one PostgreSQL transaction (DDL included), so an
invitation that fails (a bad address) leaves no schema, row or domain
behind, and the invitation email goes out only after the commit.
"""

from __future__ import annotations

from django.db import transaction
from django_tenants.utils import tenant_context

from accounts.services.invitations import invitation_create_first_admin
from tenants.services import ProvisionResult, tenant_provision


def tenant_onboard(
    *, slug: str, name: str, admin_email: str | None = None, verbosity: int = 0
) -> ProvisionResult:
    """Provision (or bring up to date) a tenant and invite its first Admin; safe to repeat."""
    with transaction.atomic():
        result = tenant_provision(slug=slug, name=name, verbosity=verbosity)
        if admin_email:
            with tenant_context(result.tenant):
                invitation_create_first_admin(email=admin_email)
    return result
