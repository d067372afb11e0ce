"""Tenant lifecycle: provisioning, suspension, schema audit.

Provisioning runs in one database transaction. PostgreSQL DDL is
transactional, so when any step fails (schema, migrations, domain) the
whole attempt rolls back: no tenant row, no schema, no domain is left.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, schema_exists

from tenants.errors import PlatformTenantProtected, TenantInvalid, TenantSlugError
from tenants.models import Domain, Tenant
from tenants.parking import parked_tasks_release

logger = logging.getLogger(__name__)

# A DNS label: lowercase letters, digits and single hyphens, starting with a
# letter, not ending with a hyphen. 40 characters leaves room in the schema
# name (63 max) and in the host name.
_SLUG_RE = re.compile(r"[a-z](?:[a-z0-9]|-(?!-)){0,38}[a-z0-9]")

#: Slugs that name parts of the platform itself, or PostgreSQL schemas.
RESERVED_SLUGS = frozenset(
    {
        "public",
        "www",
        "admin",
        "api",
        "app",
        "auth",
        "login",
        "oidc",
        "sso",
        "static",
        "media",
        "assets",
        "hooks",
        "callback",
        "mail",
        "smtp",
        "flower",
        "status",
        "health",
        "healthz",
        "readyz",
        "docs",
        "help",
        "support",
        "billing",
        "nexiom",
        "localhost",
        "information-schema",
    }
)


@dataclass(frozen=True)
class ProvisionResult:
    tenant: Tenant
    created: bool
    url: str


def tenant_slug_validate(*, slug: str) -> str:
    """Return the normalised slug, or raise TenantSlugError with the reason."""
    candidate = (slug or "").lower()
    if not candidate:
        raise TenantSlugError("The tenant slug is empty.")
    if candidate in RESERVED_SLUGS or candidate.startswith("pg-"):
        raise TenantSlugError(
            f"The slug {candidate!r} is reserved by the platform; choose another."
        )
    if not _SLUG_RE.fullmatch(candidate):
        raise TenantSlugError(
            f"The slug {slug!r} is not a valid host name label: use 2-40 lowercase letters, "
            "digits and single hyphens, starting with a letter and not ending with a hyphen."
        )
    return candidate


def schema_name_for(*, slug: str) -> str:
    return slug.replace("-", "_")


def tenant_domain_for(*, slug: str) -> str:
    return f"{slug}.{settings.NEXIOM_BASE_DOMAIN}"


def tenant_url(*, tenant: Tenant) -> str:
    host = tenant_domain_for(slug=tenant.slug)
    port = settings.NEXIOM_PUBLIC_PORT
    default_port = {"http": 80, "https": 443}.get(settings.NEXIOM_PUBLIC_SCHEME)
    netloc = host if port == default_port else f"{host}:{port}"
    return f"{settings.NEXIOM_PUBLIC_SCHEME}://{netloc}/"


def tenant_current() -> Tenant:
    """The tenant whose schema the connection is in (the real row, not a stand-in)."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Tenant):
        return tenant
    return Tenant.objects.get(schema_name=connection.schema_name)


def public_tenant_ensure() -> Tenant:
    """The public schema's tenant row and the base domain's host; safe to repeat."""
    public_schema = get_public_schema_name()
    with transaction.atomic():
        tenant, _ = Tenant.objects.get_or_create(
            schema_name=public_schema,
            defaults={"name": "Nexiom platform", "slug": public_schema},
        )
        Domain.objects.get_or_create(
            domain=settings.NEXIOM_BASE_DOMAIN, defaults={"tenant": tenant, "is_primary": True}
        )
    return tenant


def tenant_provision(*, slug: str, name: str, verbosity: int = 0) -> ProvisionResult:
    """Create (or bring up to date) a tenant: schema, migrations, domain.

    Re-running it for an existing tenant migrates its schema and restores a
    missing domain; it never renames or recreates anything. A tenant with its
    first Admin is onboarded by ``accounts.services.tenant_onboard``, which
    calls this inside its own transaction.
    """
    slug = tenant_slug_validate(slug=slug)
    name = (name or "").strip()
    if not name:
        raise TenantInvalid(
            "The tenant needs a name.", fields={"name": ["This field is required."]}
        )
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("Tenants are provisioned from the public schema only.")

    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().filter(slug=slug).first()
        created = tenant is None
        if created:
            tenant = Tenant(schema_name=schema_name_for(slug=slug), slug=slug, name=name)
            tenant.save()
        if not schema_exists(tenant.schema_name):
            # Creates the schema and applies every tenant migration.
            tenant.create_schema(verbosity=verbosity)
        else:
            call_command(
                "migrate_schemas",
                tenant=True,
                schema_name=tenant.schema_name,
                interactive=False,
                verbosity=verbosity,
            )
        connection.set_schema_to_public()
        domain, _ = Domain.objects.get_or_create(
            domain=tenant_domain_for(slug=slug), defaults={"tenant": tenant, "is_primary": True}
        )
        if domain.tenant_id != tenant.pk:
            raise TenantSlugError(
                f"The host {domain.domain} already belongs to tenant {domain.tenant.slug!r}."
            )

    logger.info("tenant %s provisioned (created=%s)", slug, created)
    return ProvisionResult(tenant=tenant, created=created, url=tenant_url(tenant=tenant))


def tenant_status_set(*, tenant: Tenant, status: str) -> Tenant:
    if status not in Tenant.Status.values:
        raise TenantInvalid(f"Unknown tenant status {status!r}.", fields={"status": ["Unknown."]})
    if tenant.schema_name == get_public_schema_name():
        raise PlatformTenantProtected("The platform tenant cannot be suspended.")
    with transaction.atomic():
        # The UPDATE locks the tenant row until commit: workers park a task
        # only under that lock (tenants.parking), so reactivation and parking
        # never miss each other. A suspension applies to the next task start:
        # workers read the status per task, not from their tenant cache.
        Tenant.objects.filter(pk=tenant.pk).update(status=status)
        released = 0
        if status == Tenant.Status.ACTIVE:
            released = parked_tasks_release(tenant=tenant)
    tenant.status = status
    logger.info("tenant %s is now %s (%d parked task(s) sent again)", tenant.slug, status, released)
    return tenant


def tenant_schemas_audit() -> list[str]:
    """Problems between tenant rows and PostgreSQL schemas, as readable lines."""
    problems = []
    for tenant in Tenant.objects.exclude(schema_name=get_public_schema_name()):
        if not schema_exists(tenant.schema_name):
            problems.append(f"tenant {tenant.slug}: schema {tenant.schema_name} is missing")
        if not Domain.objects.filter(tenant=tenant).exists():
            problems.append(f"tenant {tenant.slug}: has no domain")
    for problem in problems:
        logger.error("schema audit: %s", problem)
    return problems
