"""python manage.py provision_tenant SLUG --name NAME [--admin-email EMAIL]

Lives in accounts, not tenants: onboarding (provision, then invite the first
Admin) is an accounts service, and tenants never imports the layers above it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from accounts.services import tenant_onboard
from nexiom.commands import domain_errors_as_command_errors
from tenants.services import public_tenant_ensure


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
        with domain_errors_as_command_errors():
            result = tenant_onboard(
                slug=slug,
                name=name,
                admin_email=admin_email,
                verbosity=max(0, options["verbosity"] - 1),
            )
        state = "created" if result.created else "already existed; schema and domain checked"
        self.stdout.write(self.style.SUCCESS(f"Tenant {result.tenant.slug} {state}."))
        self.stdout.write(f"Tenant URL: {result.url}")
