"""Revenova Outbound Messages become QuickBooks invoices: the whole pipeline, really run."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from pipeline.models import Delivery, InboundMessage
from sync_history.models import SyncEvent
from tests.pipeline.conftest import FIXTURES, wait_until

pytestmark = pytest.mark.usefixtures("wired")

INVOICES = (FIXTURES / "revenova_outbound_invoice.xml").read_bytes()
ACK = b'<?xml version="1.0" encoding="UTF-8"?>'


def _delivered(wired, count: int) -> bool:
    with schema_context(wired.tenant.schema_name):
        return Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() >= count


def _qbo_invoices(qbo_sandbox, realm: str) -> list[dict]:
    return qbo_sandbox.state()["data"]["companies"][realm]["invoices"]


def test_the_fixture_invoices_arrive_in_quickbooks(wired, qbo_sandbox, django_db_blocker):
    with django_db_blocker.unblock():
        response = wired.post(INVOICES)

        assert response.status_code == 200, response.content
        assert b"<Ack>true</Ack>" in response.content
        assert response["Content-Type"].startswith("text/xml")
        wait_until(lambda: _delivered(wired, 2), what="two delivered invoices")
        with schema_context(wired.tenant.schema_name):
            delivery = Delivery.objects.get(target_reference="INV-104233")
        # By the id QuickBooks gave: DocNumbers are not unique in a company (other tests book
        # the same fixture invoices in the shared sandbox).
        company = qbo_sandbox.state()["data"]["companies"][wired.books.realm_id]
        usd = next(i for i in company["invoices"] if i["Id"] == delivery.target_id)
        assert usd["DocNumber"] == "INV-104233"
        assert Decimal(str(usd["TotalAmt"])) == Decimal("2437.50")
        with schema_context(wired.tenant.schema_name):
            layers = set(
                SyncEvent.objects.filter(record_id=delivery.canonical.replica_id).values_list(
                    "layer", flat=True
                )
            )
            assert layers == {"replica", "normalize", "outbound", "delivery"}


def test_a_re_sent_message_creates_nothing(wired, qbo_sandbox, django_db_blocker):
    with django_db_blocker.unblock():
        wired.post(INVOICES)
        wait_until(lambda: _delivered(wired, 2), what="first delivery")
        before = len(_qbo_invoices(qbo_sandbox, wired.books.realm_id))

        again = wired.post(INVOICES)

        assert again.status_code == 200
        with schema_context(wired.tenant.schema_name):
            assert InboundMessage.objects.count() == 1
        assert len(_qbo_invoices(qbo_sandbox, wired.books.realm_id)) == before
