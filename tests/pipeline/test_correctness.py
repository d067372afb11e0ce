"""What a tenant sees: Revenova invoices become the right QuickBooks invoices, once.

Each test posts Outbound Messages to the tenant's hook URL and reads the
result where the tenant would: in the QuickBooks sandbox (its state and its
API) and in the sync history.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from pipeline.models import CanonicalRecord, CrossReference, Delivery, InboundMessage
from pipeline.tasks import sweep_tenant
from tests.pipeline.conftest import wait_until
from tests.pipeline.support import (
    ACK,
    FIXTURE_MESSAGE,
    V1,
    V2,
    company,
    customers_named,
    deliveries,
    events,
    in_tenant,
    invoice,
    invoices_by_number,
    message,
    qbo_invoice,
    sales_lines,
    table_counts,
    tag,
    total_of,
    wait_delivered,
)

pytestmark = pytest.mark.usefixtures("fresh")


def swept(wired) -> dict[str, int]:
    """Run the tenant's sweep now: what it queues again is what the pipeline still owed."""
    with schema_context(wired.tenant.schema_name):
        return sweep_tenant()


def settled(wired) -> None:
    """Nothing owed anywhere: the sweep finds nothing to queue again."""
    wait_until(lambda: not any(swept(wired).values()), what="a pipeline that owes nothing")


def test_the_fixture_invoices_arrive_as_correct_quickbooks_invoices(fresh, qbo):
    realm = fresh.books.realm_id

    response = fresh.post(FIXTURE_MESSAGE)

    assert response.status_code == 200
    assert response.content == ACK
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    wait_delivered(fresh, 2)
    sent = {d.target_reference: d for d in deliveries(fresh)}
    assert set(sent) == {"INV-104233", "INV-104236"}
    # DocNumber is not unique in QuickBooks (other tenants of this session's sandbox
    # may book the fixture too): the invoice is the one our delivery points at, and
    # exactly one request ever created it.
    held = company(qbo, realm)
    by_number = {}
    for number, delivery in sent.items():
        by_number[number] = qbo_invoice(fresh, delivery.target_id)
        assert by_number[number]["DocNumber"] == number
        creates = [
            r
            for r in held["requestids"].values()
            if r["Id"] == delivery.target_id and r["path"].endswith("/invoice")
        ]
        assert len(creates) == 1, creates
    usd, cad = by_number["INV-104233"], by_number["INV-104236"]
    [great_lakes] = customers_named(qbo, realm, "Great Lakes Packaging & Supply Co.")
    [maple] = customers_named(qbo, realm, "Maple Ridge Foods Ltd.")
    assert usd["CustomerRef"]["value"] == great_lakes["Id"]
    assert cad["CustomerRef"]["value"] == maple["Id"]
    assert (usd["TxnDate"], usd["DueDate"], usd["CurrencyRef"]["value"]) == (
        "2025-03-14",
        "2025-04-13",
        "USD",
    )
    assert (cad["TxnDate"], cad["DueDate"], cad["CurrencyRef"]["value"]) == (
        "2025-03-14",
        "2025-04-28",
        "CAD",
    )
    assert sales_lines(usd) == [
        ("Linehaul - Load-104877", Decimal("1850.00"), "21"),
        ("Fuel Surcharge - Load-104877", Decimal("412.50"), "22"),
        ("Accessorial: Lift Gate Delivery", Decimal("75.00"), "23"),
        ("Accessorial: Detention", Decimal("100.00"), "23"),
    ]
    assert Decimal(str(usd["TotalAmt"])) == Decimal("2437.50")
    assert sales_lines(cad) == [
        ("Linehaul - Load-104881", Decimal("3200.00"), "21"),
        ("Fuel Surcharge - Load-104881", Decimal("544.00"), "22"),
    ]
    # Tax travels on the header (the sandbox does not compute tax: TotalAmt is the lines).
    assert Decimal(str(cad["TxnTaxDetail"]["TotalTax"])) in (Decimal("187.20"), Decimal(0))
    assert sent["INV-104233"].target_id == usd["Id"]
    assert sent["INV-104236"].target_id == cad["Id"]
    assert all(d.status == Delivery.Status.DELIVERED for d in sent.values())
    replica_id = sent["INV-104233"].canonical.replica_id
    layers = [(e.layer, e.status) for e in events(fresh, record_id=replica_id)]
    assert layers == [
        ("replica", "succeeded"),
        ("normalize", "succeeded"),
        ("outbound", "succeeded"),
        ("delivery", "succeeded"),
    ]


def test_a_customer_is_created_once_and_reused(fresh, qbo):
    run = tag()
    realm = fresh.books.realm_id
    first = [invoice(run, n) for n in (1, 2, 3)]

    fresh.post(message(first))
    wait_delivered(fresh, 3)
    fresh.post(message([invoice(run, 4)]))
    wait_delivered(fresh, 4)

    [customer] = customers_named(qbo, realm, f"Customer {run}")
    numbers = invoices_by_number(qbo, realm, f"T{run}-")
    assert sorted(numbers) == [f"T{run}-{n:04d}" for n in (1, 2, 3, 4)]
    assert {entry["CustomerRef"]["value"] for [entry] in numbers.values()} == {customer["Id"]}
    customer_creates = [
        r for r in company(qbo, realm)["requestids"].values() if r["Id"] == customer["Id"]
    ]
    assert len(customer_creates) == 1
    with schema_context(fresh.tenant.schema_name):
        xref = CrossReference.objects.get(object_type="customer")
        assert xref.target_id == customer["Id"]
        assert xref.source_id == first[0]["Bill_To_Account_Id__c"]


def test_a_re_sent_message_creates_nothing(fresh, qbo):
    run = tag()
    realm = fresh.books.realm_id
    records = [invoice(run, 1), invoice(run, 2)]
    raw = message(records)
    fresh.post(raw)
    wait_delivered(fresh, 2)
    settled(fresh)
    before = (company(qbo, realm), table_counts(fresh))

    again = fresh.post(raw)  # the same notification ids
    other = fresh.post(message(records))  # new notification ids, the same record versions

    assert again.status_code == other.status_code == 200
    assert again.content == other.content == ACK
    settled(fresh)
    after_company = company(qbo, realm)
    assert after_company["invoices"] == before[0]["invoices"]
    assert after_company["customers"] == before[0]["customers"]
    assert len(invoices_by_number(qbo, realm, f"T{run}-")[f"T{run}-0001"]) == 1
    with schema_context(fresh.tenant.schema_name):
        assert InboundMessage.objects.count() == 2  # the first and the new-ids message
        assert Delivery.objects.count() == 2
    skipped = events(fresh, layer="replica", status="skipped")
    assert sorted(e.detail["reason"] for e in skipped) == ["same version again"] * 2
    gateway = events(fresh, layer="gateway", status="skipped")
    assert len(gateway) == 1


def test_an_updated_invoice_updates_the_quickbooks_invoice(fresh, qbo):
    run = tag()
    realm = fresh.books.realm_id
    fresh.post(message([invoice(run, 1)]))
    wait_delivered(fresh, 1)
    [[created]] = invoices_by_number(qbo, realm, f"T{run}-").values()
    assert created["SyncToken"] == "0"
    changed = invoice(run, 1, version=V2, line_haul="1999.99")

    fresh.post(message([changed]))

    wait_until(
        lambda: deliveries(fresh)[0].delivered_version == V2, what="the new version delivered"
    )
    [[updated]] = invoices_by_number(qbo, realm, f"T{run}-").values()
    assert updated["Id"] == created["Id"]
    assert updated["SyncToken"] == "1"
    assert Decimal(str(updated["TotalAmt"])) == total_of(changed) == Decimal("2487.49")
    read = qbo_invoice(fresh, updated["Id"])
    assert sales_lines(read)[0] == ("Linehaul - Load-1", Decimal("1999.99"), "21")
    [delivery] = deliveries(fresh)
    assert (delivery.status, delivery.target_id, delivery.target_version) == (
        Delivery.Status.DELIVERED,
        created["Id"],
        "1",
    )
    update_calls = [
        r
        for r in company(qbo, realm)["requestids"].values()
        if r["Id"] == created["Id"] and r["path"].endswith("/invoice")
    ]
    assert len(update_calls) == 2  # the create, then one sparse update


def test_an_older_version_arriving_late_changes_nothing(fresh, qbo):
    run = tag()
    realm = fresh.books.realm_id
    fresh.post(message([invoice(run, 1, version=V2, line_haul="1999.99")]))
    wait_delivered(fresh, 1)
    settled(fresh)
    [[current]] = invoices_by_number(qbo, realm, f"T{run}-").values()
    held = deliveries(fresh)

    late = fresh.post(message([invoice(run, 1, version=V1, line_haul="1850.00")]))

    assert late.status_code == 200
    assert late.content == ACK
    wait_until(
        lambda: events(fresh, layer="replica", status="skipped"), what="the late version skipped"
    )
    settled(fresh)
    [skipped] = events(fresh, layer="replica", status="skipped")
    assert skipped.detail["reason"] == f"older than the stored version {V2}"
    [[after]] = invoices_by_number(qbo, realm, f"T{run}-").values()
    assert after == current

    def versions(rows):
        return [(d.source_version, d.delivered_version, d.target_version) for d in rows]

    assert versions(deliveries(fresh)) == versions(held)
    with schema_context(fresh.tenant.schema_name):
        assert CanonicalRecord.objects.get().source_version == V2


def test_a_hundred_notifications_in_one_message_all_arrive(fresh, qbo):
    run = tag()
    realm = fresh.books.realm_id
    records = [
        invoice(run, n, customer=f"Customer {run} {n % 5}", line_haul=f"{1000 + n}.25")
        for n in range(1, 101)
    ]

    response = fresh.post(message(records))

    assert response.status_code == 200
    assert response.content == ACK
    wait_delivered(fresh, 100, timeout=60)
    numbers = invoices_by_number(qbo, realm, f"T{run}-")
    assert len(numbers) == 100
    assert {number: Decimal(str(entry["TotalAmt"])) for number, [entry] in numbers.items()} == {
        str(r["Name"]): total_of(r) for r in records
    }
    for k in range(5):
        assert len(customers_named(qbo, realm, f"Customer {run} {k}")) == 1
    with schema_context(fresh.tenant.schema_name):
        assert InboundMessage.objects.get().notification_count == 100
        assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 100


def test_an_invalid_record_fails_alone_with_a_readable_error(fresh, qbo):
    run = tag()
    realm = fresh.books.realm_id
    good = [invoice(run, 1), invoice(run, 3)]
    bad = invoice(run, 2, rtms__Invoice_Date__c="14/03/2025", Bill_To_Account_Name__c=None)

    response = fresh.post(message([good[0], bad, good[1]]))

    assert response.status_code == 200
    wait_delivered(fresh, 2)
    settled(fresh)
    assert sorted(invoices_by_number(qbo, realm, f"T{run}-")) == [f"T{run}-0001", f"T{run}-0003"]
    [failed] = events(fresh, layer="normalize", status="failed")
    assert failed.external_id == bad["Id"]
    assert failed.error_code == "record_invalid"
    assert "rtms__Invoice_Date__c '14/03/2025' is not a date (YYYY-MM-DD)" in failed.error
    assert "Bill_To_Account_Name__c is missing" in failed.error
    assert set(failed.detail["fields"]) == {"rtms__Invoice_Date__c", "Bill_To_Account_Name__c"}
    canonical = in_tenant(
        fresh, lambda: CanonicalRecord.objects.get(replica__external_id=bad["Id"])
    )
    assert canonical.status == CanonicalRecord.Status.INVALID
    assert canonical.error == failed.error
    assert [d.canonical.replica.external_id for d in deliveries(fresh)] == [
        good[0]["Id"],
        good[1]["Id"],
    ]
