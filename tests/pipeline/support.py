"""Messages, sandbox views and waits shared by the pipeline's end-to-end tests.

Generated invoices carry a per-run tag in their ids, numbers and customer
names: the QuickBooks sandbox lives for the whole session and is shared by
every tenant connected to it, so each test finds its own records by them.
"""

from __future__ import annotations

import itertools
import time
import uuid
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import redis
from django.conf import settings
from django.db import IntegrityError
from django_tenants.utils import schema_context

from connectors.services import connection_client
from pipeline.models import (
    CanonicalRecord,
    CrossReference,
    Delivery,
    InboundMessage,
    ReplicaRecord,
)
from sync_history.models import SyncEvent
from tests.pipeline.conftest import FIXTURES, ORG_ID, wait_until

DATA = Path(__file__).resolve().parent / "data"
FIXTURE_MESSAGE = (FIXTURES / "revenova_outbound_invoice.xml").read_bytes()
#: fixtures/salesforce_outbound_ack.xml, byte for byte.
ACK = (DATA / "salesforce_outbound_ack.xml").read_bytes()
V1 = "2025-03-14T16:02:11.000Z"
V2 = "2025-03-15T09:30:00.000Z"

_notifications = itertools.count(1)


def tag() -> str:
    """Six characters no other test (or session) uses."""
    return uuid.uuid4().hex[:6].upper()


def invoice(
    run: str,
    n: int,
    *,
    customer: str | None = None,
    version: str = V1,
    line_haul: str = "1850.00",
    fuel: str = "412.50",
    accessorials: tuple[tuple[str, str], ...] = (("Lift Gate Delivery", "75.00"),),
    **fields: str | None,
) -> dict[str, str | None]:
    """The fields of one ``rtms__CustomerInvoice__c`` notification, fixture-shaped."""
    extras = sum((Decimal(amount) for _, amount in accessorials), Decimal(0))
    total = Decimal(line_haul) + Decimal(fuel) + extras
    name = customer or f"Customer {run}"
    values: dict[str, str | None] = {
        "Id": f"a0M{run}{n:06d}",
        "Accessorial_Summary__c": ";".join(f"{k}={v}" for k, v in accessorials) or None,
        "Bill_To_Account_Id__c": f"001{run}" + name.encode().hex()[-9:],
        "Bill_To_Account_Name__c": name,
        "CurrencyIsoCode": "USD",
        "LastModifiedDate": version,
        "Load_Number__c": f"Load-{n}",
        "Name": f"T{run}-{n:04d}",
        "rtms__Accessorial_Charges__c": str(extras),
        "rtms__Fuel_Surcharge__c": fuel,
        "rtms__Invoice_Date__c": "2025-03-14",
        "rtms__Invoice_Due_Date__c": "2025-04-13",
        "rtms__Invoice_Total__c": str(total),
        "rtms__Net_Line_Haul__c": line_haul,
        "rtms__Payment_Discount__c": "0.0",
        "rtms__Tax_Amount__c": "0.0",
    }
    values.update(fields)
    return values


def total_of(fields: dict[str, str | None]) -> Decimal:
    return Decimal(str(fields["rtms__Invoice_Total__c"]))


def _field(name: str, value: str | None) -> str:
    if value is None:
        return f'     <sf:{name} xsi:nil="true"/>\n'
    return f"     <sf:{name}>{escape(value)}</sf:{name}>\n"


def message(records: list[dict[str, str | None]], *, org_id: str = ORG_ID) -> bytes:
    """An Outbound Message as Revenova sends it: one notification per record, new
    notification ids every call (a re-send of the same bytes keeps them)."""
    notifications = []
    for record in records:
        number = next(_notifications)
        fields = "".join(_field(name, value) for name, value in record.items())
        notifications.append(
            "   <Notification>\n"
            f"    <Id>04l{uuid.uuid4().hex[:9]}{number:06d}</Id>\n"
            '    <sObject xsi:type="sf:rtms__CustomerInvoice__c" '
            'xmlns:sf="urn:sobject.enterprise.soap.sforce.com">\n'
            f"{fields}"
            "    </sObject>\n"
            "   </Notification>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        " <soapenv:Body>\n"
        '  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">\n'
        f"   <OrganizationId>{org_id}</OrganizationId>\n"
        "   <ActionId>04k5e000000CkQ2AAK</ActionId>\n"
        '   <SessionId xsi:nil="true"/>\n'
        "   <EnterpriseUrl>https://acmefreight.my.salesforce.com/services/Soap/c/62.0/"
        "00D5e000000KqTz</EnterpriseUrl>\n"
        "   <PartnerUrl>https://acmefreight.my.salesforce.com/services/Soap/u/62.0/"
        "00D5e000000KqTz</PartnerUrl>\n"
        f"{''.join(notifications)}"
        "  </notifications>\n"
        " </soapenv:Body>\n"
        "</soapenv:Envelope>\n"
    ).encode()


# --- the sandbox --------------------------------------------------------------------------------


def company(qbo, realm: str) -> dict:
    return qbo.state()["data"]["companies"][realm]


def invoices_by_number(qbo, realm: str, prefix: str) -> dict[str, list[dict]]:
    """The company's invoices whose DocNumber starts with ``prefix``, grouped by DocNumber."""
    found: dict[str, list[dict]] = {}
    for entry in company(qbo, realm)["invoices"]:
        if entry["DocNumber"].startswith(prefix):
            found.setdefault(entry["DocNumber"], []).append(entry)
    return found


def customers_named(qbo, realm: str, name: str) -> list[dict]:
    return [c for c in company(qbo, realm)["customers"] if c["DisplayName"] == name]


def qbo_invoice(wired, invoice_id: str) -> dict:
    """The whole invoice as QuickBooks answers a read (dates, currency, every line)."""
    with schema_context(wired.tenant.schema_name):
        client = connection_client(connection=wired.books, reason="a test reads an invoice")
        return client.get(f"invoice/{invoice_id}").json()["Invoice"]


def sales_lines(invoice: dict) -> list[tuple[str, Decimal, str]]:
    return [
        (
            line["Description"],
            Decimal(str(line["Amount"])),
            line["SalesItemLineDetail"]["ItemRef"]["value"],
        )
        for line in invoice["Line"]
        if line.get("DetailType") == "SalesItemLineDetail"
    ]


# --- the tenant's pipeline ----------------------------------------------------------------------


def in_tenant(wired, read):
    with schema_context(wired.tenant.schema_name):
        return read()


def delivered_count(wired) -> int:
    return in_tenant(
        wired, lambda: Delivery.objects.filter(status=Delivery.Status.DELIVERED).count()
    )


def wait_delivered(wired, count: int, timeout: float = 30) -> None:
    wait_until(lambda: delivered_count(wired) >= count, timeout=timeout, what=f"{count} delivered")


def deliveries(wired) -> list[Delivery]:
    return in_tenant(
        wired, lambda: list(Delivery.objects.select_related("canonical__replica").order_by("pk"))
    )


def events(wired, **filters) -> list[SyncEvent]:
    return in_tenant(wired, lambda: list(SyncEvent.objects.filter(**filters).order_by("pk")))


def table_counts(wired) -> dict[str, int]:
    def read() -> dict[str, int]:
        return {
            "messages": InboundMessage.objects.count(),
            "replicas": ReplicaRecord.objects.count(),
            "canonicals": CanonicalRecord.objects.count(),
            "deliveries": Delivery.objects.count(),
            "xrefs": CrossReference.objects.count(),
            "events": SyncEvent.objects.count(),
        }

    return in_tenant(wired, read)


def pipeline_reset(wired) -> None:
    """Forget the tenant's pipeline rows, history and Redis queues (routes and hooks stay)."""

    def wipe() -> None:
        SyncEvent.objects.all().delete()
        Delivery.objects.all().delete()
        CrossReference.objects.all().delete()
        CanonicalRecord.objects.all().delete()
        ReplicaRecord.objects.all().delete()
        InboundMessage.objects.all().delete()

    for attempt in range(20):  # a worker may still be finishing the previous test's message
        try:
            in_tenant(wired, wipe)
            break
        except IntegrityError:
            if attempt == 19:
                raise
            time.sleep(0.25)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = list(client.scan_iter(f"nexiom:pipeline:{wired.tenant.schema_name}:*"))
    if keys:
        client.delete(*keys)
