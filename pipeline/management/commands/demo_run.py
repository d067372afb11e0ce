"""python manage.py demo_run [--tenant demo] [--web http://127.0.0.1:8000]

``make demo``: post the sample Revenova Outbound Messages to the demo
tenant's ingest URL (over HTTP, to the running platform) and print what
reached the QuickBooks sandbox.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import requests
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from connectors.models import Connection
from connectors.sdk.testing import read_consent
from connectors.services import authorization_start, connection_test, oauth_callback_complete
from nexiom.commands import domain_errors_as_command_errors
from pipeline.models import Delivery
from pipeline.services.demo import demo_route_ensure, sample_for_run, sample_messages
from pipeline.services.hooks import hook_issue
from tenants.selectors import tenant_get_by_slug


def _run_token() -> str:
    """Five characters that differ from run to run (base 36 of the time in seconds)."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    value, token = int(time.time()), ""
    for _ in range(5):
        value, digit = divmod(value, 36)
        token = digits[digit] + token
    return token


class Command(BaseCommand):
    help = "Post the sample outbound messages to the demo tenant and show the QuickBooks result."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", default="demo")
        parser.add_argument("--web", default="http://127.0.0.1:8000", help="the running platform")
        parser.add_argument("--timeout", type=float, default=60)

    def handle(self, *args, tenant: str, web: str, timeout: float, **options) -> None:
        with domain_errors_as_command_errors():
            found = tenant_get_by_slug(slug=tenant)
        host = found.domains.first().domain
        with tenant_context(found), domain_errors_as_command_errors():
            route = demo_route_ensure()
            if route is None:
                raise CommandError("Run `make up` first: the demo connections are missing.")
            books = route.target
            # The sandbox keeps its tokens in memory: after a restart it knows none of ours.
            works = (
                books.status == Connection.Status.CONNECTED
                and connection_test(connection=books, actor="make demo").ok
            )
            if not works:
                self.stdout.write("Connecting the QuickBooks sandbox (approving its consent page)")
                self._connect(books)
                books.refresh_from_db()
            hook = hook_issue(connection=route.source)
            before = Delivery.objects.filter(status=Delivery.Status.DELIVERED).count()
        path = "/" + hook.url.split("/", 3)[3]
        sent = 0
        run = _run_token()
        for sample in sample_messages():
            response = requests.post(
                f"{web}{path}",
                data=sample_for_run(sample.read_bytes(), run=run),
                headers={"Host": host, "Content-Type": "text/xml; charset=utf-8"},
                timeout=30,
            )
            self.stdout.write(f"POST {sample.name}: {response.status_code}")
            sent += response.status_code == 200
        if not sent:
            raise CommandError("No message was acknowledged; is `make up` running?")
        self._wait(found, before, timeout)
        self._report(books)

    def _connect(self, books: Connection) -> None:
        url = authorization_start(connection=books, user=None)
        session = requests.Session()
        page = session.get(url, timeout=10)
        form = read_consent(page.text)
        action = form.action or urlsplit(url).path
        base = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
        answer = session.post(
            base + action if action.startswith("/") else action,
            data={**form.fields, "decision": "approve"},
            allow_redirects=False,
            timeout=10,
        )
        query = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
        oauth_callback_complete(provider=books.connector, query=query)

    def _wait(self, tenant, before: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with tenant_context(tenant):
                done = Delivery.objects.filter(status=Delivery.Status.DELIVERED).count()
                waiting = Delivery.objects.exclude(
                    status__in=[Delivery.Status.DELIVERED, Delivery.Status.DEAD]
                ).count()
            if done > before and not waiting:
                return
            time.sleep(0.5)
        self.stdout.write("Still delivering after the timeout; the report shows what arrived.")

    def _report(self, books: Connection) -> None:
        from connectors.registry import connector_get

        base = connector_get(key="quickbooks").local_base_url()
        state = requests.get(f"{base}/__sandbox__/state", timeout=10).json()
        company = state["data"]["companies"].get(books.realm_id, {})
        self.stdout.write(f"\nQuickBooks sandbox, realm {books.realm_id}:")
        for customer in company.get("customers", []):
            self.stdout.write(f"  customer {customer['Id']}: {customer['DisplayName']}")
        for invoice in company.get("invoices", [])[-20:]:
            self.stdout.write(
                f"  invoice {invoice['Id']}: {invoice.get('DocNumber')} for customer "
                f"{invoice['CustomerRef']['value']}, total {invoice.get('TotalAmt')} "
                f"{invoice.get('CurrencyRef', {}).get('value', '')}"
            )
