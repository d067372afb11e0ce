"""Shared reads of tenants: by slug, and the active ones a platform job fans out to."""

from __future__ import annotations

from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from tenants.errors import TenantNotFound
from tenants.models import Tenant


def tenants_all() -> QuerySet[Tenant]:
    """Every customer tenant (never the platform's public row), by slug."""
    return Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by("slug")


def tenants_active() -> QuerySet[Tenant]:
    """The tenants a sweeper or health job should visit: not suspended."""
    return tenants_all().filter(status=Tenant.Status.ACTIVE)


def tenant_get_by_slug(*, slug: str) -> Tenant:
    """The tenant with this slug, public row included (break-glass for the platform)."""
    tenant = Tenant.objects.filter(slug=(slug or "").strip().lower()).first()
    if tenant is None:
        raise TenantNotFound(f"No tenant with slug {slug!r}.")
    return tenant


def tenants_get_by_slugs(*, slugs: list[str]) -> list[Tenant]:
    """Customer tenants in the order given (duplicates dropped); all must exist."""
    wanted = list(dict.fromkeys(slug.strip().lower() for slug in slugs))
    found = {tenant.slug: tenant for tenant in tenants_all().filter(slug__in=wanted)}
    missing = [slug for slug in wanted if slug not in found]
    if missing:
        raise TenantNotFound(f"No tenant with slug {', '.join(missing)}.")
    return [found[slug] for slug in wanted]
