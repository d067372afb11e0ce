"""Create the local-password superuser of a tenant (or of the platform)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.services import breakglass_superuser_ensure
from nexiom.commands import domain_errors_as_command_errors
from tenants.selectors import tenant_get_by_slug


class Command(BaseCommand):
    help = (
        "Ensure a break-glass superuser (local password, for when the identity provider is "
        "down). Prints the password only when it is created or --reset-password is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tenant",
            default=get_public_schema_name(),
            help="tenant slug (default: the platform itself)",
        )
        parser.add_argument("--username", default="breakglass")
        parser.add_argument("--email", default="")
        parser.add_argument("--reset-password", action="store_true")

    def handle(self, *args, **options) -> None:
        with domain_errors_as_command_errors():
            tenant = tenant_get_by_slug(slug=options["tenant"])
        with schema_context(tenant.schema_name):
            result = breakglass_superuser_ensure(
                username=options["username"],
                email=options["email"],
                reset_password=options["reset_password"],
            )
        if result.password:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Break-glass superuser for {tenant.slug}: username {result.user.username} "
                    f"password {result.password}"
                )
            )
        else:
            self.stdout.write(
                f"Break-glass superuser {result.user.username} of {tenant.slug} already exists; "
                "password unchanged (use --reset-password for a new one)."
            )
