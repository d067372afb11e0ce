"""python manage.py provision_tenant SLUG --name NAME [--admin-email EMAIL]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import InvitationError
from tenants.services import TenantSlugError, public_tenant_ensure, tenant_provision


class Command(BaseCommand):
    help = (
        "Create a tenant: its schema (migrated), its host SLUG.<NEXIOM_BASE_DOMAIN> and, with "
        "--admin-email, an invitation for its first Admin. Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="DNS label of the tenant's host, e.g. acme")
        parser.add_argument("--name", required=True, help="the company's display name")
        parser.add_argument("--admin-email", help="invite this address as the first Admin")

    def handle(self, *args, slug: str, name: str, admin_email: str | None, **options) -> None:
        public_tenant_ensure()
        try:
            result = tenant_provision(
                slug=slug,
                name=name,
                admin_email=admin_email,
                verbosity=max(0, options["verbosity"] - 1),
            )
        except (TenantSlugError, InvitationError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        state = "created" if result.created else "already existed; schema and domain checked"
        self.stdout.write(self.style.SUCCESS(f"Tenant {result.tenant.slug} {state}."))
        self.stdout.write(f"Tenant URL: {result.url}")
