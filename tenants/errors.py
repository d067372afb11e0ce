"""What the tenants layer refuses, each with a stable code and HTTP status."""

from __future__ import annotations

from nexiom.errors import Conflict, DomainError, Invalid, NotFound


class TenantError(DomainError):
    """Base of the tenants layer's refusals."""


class TenantSlugError(TenantError, Invalid):
    """The slug cannot name a tenant (reserved, not a DNS label, or its host is taken)."""

    code = "invalid_slug"


class TenantInvalid(TenantError, Invalid):
    """A tenant field other than the slug is missing or wrong (name, status)."""

    code = "invalid_tenant"


class TenantNotFound(TenantError, NotFound):
    code = "tenant_not_found"


class PlatformTenantProtected(TenantError, Conflict):
    """The public schema's row is the platform itself: never suspended or renamed."""

    code = "platform_tenant"
