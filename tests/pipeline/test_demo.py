"""`make up`'s demo process: the demo route appears once, and a second start finds it."""

from __future__ import annotations

from django.core.management import call_command
from django_tenants.utils import tenant_context

from pipeline.models import Route
from tests.factories import ConnectionFactory


def test_demo_setup_creates_the_route_once_and_restarts_cleanly(tenant_a, capsys):
    with tenant_context(tenant_a):
        ConnectionFactory(connector="revenova", name="Revenova TMS (local sandbox)")
        ConnectionFactory(name="QuickBooks Online (local sandbox)", connected=True)

    call_command("demo_setup", tenant="alpha")
    call_command("demo_setup", tenant="alpha")  # a second `make up`

    out = capsys.readouterr().out.splitlines()
    expected = (
        "alpha: route 'Revenova invoices to QuickBooks (demo)' (Revenova TMS (local sandbox) "
        "(revenova) → QuickBooks Online (local sandbox) (quickbooks))"
    )
    assert out == [expected, expected]
    with tenant_context(tenant_a):
        assert Route.objects.count() == 1
