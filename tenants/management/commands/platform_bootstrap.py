"""Ensure the public (platform) tenant and its host exist; safe to re-run."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from tenants.services import public_tenant_ensure


class Command(BaseCommand):
    help = "Create the platform's public tenant and its domain (NEXIOM_BASE_DOMAIN) if missing."

    def handle(self, *args, **options) -> None:
        public_tenant_ensure()
        self.stdout.write(f"Platform host: {settings.NEXIOM_BASE_DOMAIN}")
