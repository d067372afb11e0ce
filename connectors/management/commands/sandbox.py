"""python manage.py sandbox NAME [--port N] [--demo-tenant SLUG] [-- extra sandbox flags]

Runs a connector's local sandbox server (its own process: ``python -m
<connector.sandbox_module>``; it never imports Django). With
``--demo-tenant``, once the sandbox answers, the tenant gets a connection to
it (``make up`` does this for the demo tenant): an OAuth connector's stays
pending until someone clicks Connect; an API-key connector's logs in with the
sandbox's seeded integration user.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import requests
from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.registry import connector_get, connectors_installed
from connectors.services.demo import demo_connection_ensure
from nexiom.commands import domain_errors_as_command_errors

START_TIMEOUT = 20.0


class Command(BaseCommand):
    help = "Run a connector's local sandbox server (see the README's Sandboxes section)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="connector key: " + ", ".join(connectors_installed()))
        parser.add_argument("--port", type=int, help="default: the connector's sandbox port")
        parser.add_argument("--demo-tenant", metavar="SLUG", help="give this tenant a connection")
        parser.add_argument("extra", nargs="*", help="flags passed to the sandbox (after --)")

    def handle(self, *args, name: str, port: int | None, demo_tenant: str | None, extra, **opts):
        with domain_errors_as_command_errors():
            connector = connector_get(key=name)
        if not connector.sandbox_module:
            raise CommandError(f"{connector.name} ships no sandbox.")
        port = port or connector.sandbox_port
        process = subprocess.Popen(  # noqa: S603 - our own module, no shell
            [sys.executable, "-m", connector.sandbox_module, "--port", str(port), *extra]
        )
        signal.signal(signal.SIGTERM, lambda *_: process.terminate())
        try:
            base = f"http://127.0.0.1:{port}"
            self._wait(base, process)
            self.stdout.write(
                f"{connector.name} sandbox on {base} (state: {base}/__sandbox__/state)"
            )
            if demo_tenant:
                with domain_errors_as_command_errors():
                    connection = demo_connection_ensure(connector_key=name, tenant_slug=demo_tenant)
                self.stdout.write(
                    f"{demo_tenant}: connection {connection.name!r} is {connection.status}"
                )
            process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)

    def _wait(self, base: str, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CommandError(f"the sandbox exited with status {process.returncode}")
            try:
                if requests.get(f"{base}/__sandbox__/state", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise CommandError(f"the sandbox did not answer on {base} within {START_TIMEOUT:.0f} s")
