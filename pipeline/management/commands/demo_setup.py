"""python manage.py demo_setup [--tenant demo] [--wait]

Gives the demo tenant its Revenova → QuickBooks route once the sandboxes'
demo connections exist. With ``--wait`` (``make up``'s ``demo`` process) it
waits for them, then stays idle so honcho keeps the platform running.
"""

from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from nexiom.commands import domain_errors_as_command_errors
from pipeline.services.demo import demo_route_ensure
from tenants.selectors import tenant_get_by_slug


class Command(BaseCommand):
    help = "Create the demo tenant's Revenova → QuickBooks route (make up runs it)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", default="demo")
        parser.add_argument("--wait", action="store_true", help="wait for the connections, stay up")

    def handle(self, *args, tenant: str, wait: bool, **options) -> None:
        with domain_errors_as_command_errors():
            found = tenant_get_by_slug(slug=tenant)
        deadline = time.monotonic() + (120 if wait else 0)
        while True:
            with tenant_context(found), domain_errors_as_command_errors():
                route = demo_route_ensure()
                # Read inside the tenant: the connections live in its schema.
                described = f"{route.name!r} ({route.source} → {route.target})" if route else ""
            if route is not None or time.monotonic() >= deadline:
                break
            time.sleep(1)
        if route is None:
            raise CommandError(
                "The demo connections to the Revenova and QuickBooks sandboxes are missing; "
                "start the sandboxes (make up does)."
            )
        self.stdout.write(f"{tenant}: route {described}")
        if wait:
            signal.signal(signal.SIGTERM, lambda *_: exit(0))
            while True:  # honcho stops the platform when a process ends
                time.sleep(3600)
