"""A customer deleted in QuickBooks: its cross reference is forgotten and the customer found
or created again, once; the invoice still arrives (with a request id of its own)."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pipeline.models import CrossReference, Delivery
from tests.pipeline.conftest import FIXTURES, wait_until

INVOICES = (FIXTURES / "revenova_outbound_invoice.xml").read_bytes()


def test_a_stale_customer_reference_is_relearned(wired, qbo_sandbox, django_db_blocker):
    with django_db_blocker.unblock():
        with schema_context(wired.tenant.schema_name):
            CrossReference.objects.create(
                connection=wired.books,
                object_type="customer",
                source_id="0015e00000Zq8HkAAJ",  # the bill-to account of the USD invoice
                target_id="999999",  # no such customer in QuickBooks
            )
        body = (
            INVOICES.replace(b"04l5e00000HcA1BAAV", b"04l5e00000XrF1BAAV")
            .replace(b"04l5e00000HcA1CAAV", b"04l5e00000XrF1CAAV")
            .replace(b"LastModifiedDate>2025", b"LastModifiedDate>2031")
        )
        assert wired.post(body).status_code == 200

        def settled() -> bool:
            with schema_context(wired.tenant.schema_name):
                waiting = Delivery.objects.exclude(status__in=["delivered", "dead"]).exists()
                return not waiting and Delivery.objects.filter(status="delivered").exists()

        wait_until(settled, what="the deliveries to settle")
        with schema_context(wired.tenant.schema_name):
            assert not Delivery.objects.filter(status="dead").exists()
            assert not CrossReference.objects.filter(target_id="999999").exists()
