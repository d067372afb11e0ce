"""Revenova: Outbound Message → replica records (L2) → canonical records (L3)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from connectors.canonical import CarrierBill, Invoice
from connectors.errors import MessageMalformed, RecordInvalid
from connectors.revenova.connector import Revenova
from connectors.revenova.normalization import RevenovaMapper, parse_accessorial_summary
from connectors.revenova.replica import (
    RevenovaReplicaParser,
    message_organization_id,
    org_id_matches,
)
from connectors.sdk.interfaces import ReplicaRecord


def test_one_replica_record_per_notification(invoice_records):
    first, second = invoice_records

    assert (first.object_type, first.external_id) == (
        "rtms__CustomerInvoice__c",
        "a0M5e00000Lk3QaEAJ",
    )
    assert first.source_version == "2025-03-14T16:02:11.000Z"
    assert first.notification_id == "04l5e00000HcA1BAAV"
    assert first.data["Accessorial_Summary__c"] == "Lift Gate Delivery=75.00;Detention=100.00"
    assert (second.external_id, second.notification_id) == (
        "a0M5e00000Lk3RbEAJ",
        "04l5e00000HcA1CAAV",
    )
    assert second.data["Accessorial_Summary__c"] is None
    json.dumps(first.data)  # stored as JSON


def test_the_load_message_gives_one_load_record(load_record):
    assert load_record.object_type == "rtms__Load__c"
    assert load_record.external_id == "a0j5e00000F7wXyAAJ"
    assert load_record.source_version == "2025-03-13T22:41:07.000Z"
    assert load_record.notification_id == "04l5e00000HcA9FAAV"


def test_the_gateway_reads_the_org_id_to_check_the_sender(invoice_xml):
    assert message_organization_id(invoice_xml) == "00D5e000000KqTzEAK"
    assert org_id_matches(message_organization_id(invoice_xml), "00D5e000000KqTz")


def test_a_json_body_is_not_an_outbound_message(invoice_xml):
    with pytest.raises(MessageMalformed, match="came as 'application/json'"):
        RevenovaReplicaParser().parse(invoice_xml, content_type="application/json")
    assert RevenovaReplicaParser().parse(invoice_xml, content_type="text/xml; charset=utf-8")


def test_a_notification_without_an_sobject_id_is_malformed(invoice_xml):
    raw = invoice_xml.replace(b"<sf:Id>a0M5e00000Lk3QaEAJ</sf:Id>", b"", 1)

    with pytest.raises(MessageMalformed, match="04l5e00000HcA1BAAV carries no sObject Id"):
        RevenovaReplicaParser().parse(raw, content_type="text/xml")


def test_the_connector_declares_its_parser_mapper_and_fixtures():
    assert isinstance(Revenova.parser, RevenovaReplicaParser)
    assert isinstance(Revenova.mapper, RevenovaMapper)
    assert sorted(p.name for p in Revenova.fixtures_dir.iterdir()) == [
        "revenova_outbound_invoice.xml",
        "revenova_outbound_load.xml",
    ]


# --- normalization ------------------------------------------------------------------------


def _lines(invoice: Invoice) -> list[tuple]:
    return [
        (line.kind, line.description, line.quantity, line.unit_price, line.amount,
         line.tax_code_hint, line.code)
        for line in invoice.lines
    ]  # fmt: skip


def test_the_usd_invoice_with_accessorials(usd_invoice):
    assert usd_invoice.source_system == "Revenova"
    assert usd_invoice.source_object == "rtms__CustomerInvoice__c"
    assert usd_invoice.source_id == "a0M5e00000Lk3QaEAJ"
    assert usd_invoice.source_version == "2025-03-14T16:02:11.000Z"
    assert usd_invoice.number == "INV-104233"
    assert usd_invoice.customer.source_id == "0015e00000Zq8HkAAJ"
    assert usd_invoice.customer.display_name == "Great Lakes Packaging & Supply Co."
    assert usd_invoice.currency == "USD"
    assert (usd_invoice.invoice_date, usd_invoice.due_date) == (
        date(2025, 3, 14),
        date(2025, 4, 13),
    )
    assert usd_invoice.terms_days == 30
    assert usd_invoice.load_number == "Load-104877"
    assert usd_invoice.memo == "Load Load-104877, Toledo, OH to Indianapolis, IN. PO-88412"
    one = Decimal("1")
    assert _lines(usd_invoice) == [
        ("line_haul", "Linehaul - Load-104877", one, Decimal("1850.00"), Decimal("1850.00"),
         None, None),
        ("fuel_surcharge", "Fuel Surcharge - Load-104877", one, Decimal("412.50"),
         Decimal("412.50"), None, None),
        ("accessorial", "Accessorial: Lift Gate Delivery", one, Decimal("75.00"),
         Decimal("75.00"), None, "Lift Gate Delivery"),
        ("accessorial", "Accessorial: Detention", one, Decimal("100.00"), Decimal("100.00"),
         None, "Detention"),
    ]  # fmt: skip
    assert usd_invoice.total == Decimal("2437.50")
    assert str(usd_invoice.total) == "2437.50"


def test_the_cad_invoice_with_gst(cad_invoice):
    assert cad_invoice.currency == "CAD"
    assert cad_invoice.number == "INV-104236"
    assert cad_invoice.customer.display_name == "Maple Ridge Foods Ltd."
    assert cad_invoice.terms_days == 45
    assert cad_invoice.memo == "Load Load-104881"  # its load was not handed over
    assert [(line.kind, line.amount, line.tax_code_hint) for line in cad_invoice.lines] == [
        ("line_haul", Decimal("3200.00"), "TAX"),
        ("fuel_surcharge", Decimal("544.00"), "TAX"),
        ("tax", Decimal("187.20"), "TAX"),
    ]
    assert cad_invoice.tax_total == Decimal("187.20")
    assert cad_invoice.total == Decimal("3931.20")


def test_the_mapper_asks_for_the_invoices_load(invoice_records):
    assert RevenovaMapper().related_ids(invoice_records[0]) == [
        ("rtms__Load__c", "a0j5e00000F7wXyAAJ")
    ]


def test_the_load(load):
    assert load.number == "Load-104877"
    assert load.status == "Completed" and load.mode == "Truckload"
    assert load.po_number == "PO-88412" and load.city_lane == "Toledo, OH:Indianapolis, IN"
    assert load.expected_ship_date == date(2025, 3, 11)
    assert load.distance_miles == Decimal("218.0")
    assert load.total_weight == Decimal("38500.0")
    assert load.customer_invoice_total == Decimal("2437.50")
    assert load.carrier_invoice_total == Decimal("1975.00")
    assert load.hazardous_materials is False and load.pod_received is True


def _with(record: ReplicaRecord, **fields) -> ReplicaRecord:
    return replace(record, data={**record.data, **fields})


def test_a_bad_record_fails_alone_with_every_field_named(invoice_records):
    bad = _with(
        invoice_records[0],
        Name=None,
        rtms__Invoice_Date__c="14/03/2025",
        rtms__Fuel_Surcharge__c="abc",
        Bill_To_Account_Name__c="  ",
    )
    mapper = RevenovaMapper()

    results = []
    for record in (bad, invoice_records[1]):
        try:
            results.append(mapper.to_canonical(record))
        except RecordInvalid as exc:
            results.append(exc)

    error, good = results
    assert isinstance(good, Invoice) and good.number == "INV-104236"
    assert isinstance(error, RecordInvalid)
    assert error.code == "record_invalid" and error.status == 422
    assert error.fields == {
        "Name": ["is missing"],
        "rtms__Invoice_Date__c": ["'14/03/2025' is not a date (YYYY-MM-DD)"],
        "Bill_To_Account_Name__c": ["is missing"],
        "rtms__Fuel_Surcharge__c": ["'abc' is not a number"],
    }
    assert error.message.startswith(
        "rtms__CustomerInvoice__c a0M5e00000Lk3QaEAJ cannot be mapped: Name is missing"
    )


def test_a_total_the_lines_do_not_make_is_refused(invoice_records):
    with pytest.raises(RecordInvalid) as refused:
        RevenovaMapper().to_canonical(_with(invoice_records[0], rtms__Invoice_Total__c="2500.0"))

    assert refused.value.fields == {"record": ["lines sum to 2437.50 but the total is 2500.00"]}


def test_an_accessorial_summary_that_disagrees_with_the_charges_is_refused(invoice_records):
    with pytest.raises(RecordInvalid) as refused:
        RevenovaMapper().to_canonical(
            _with(invoice_records[0], Accessorial_Summary__c="Lift Gate Delivery=75.00")
        )

    assert refused.value.fields["Accessorial_Summary__c"] == [
        "lists 75.00 of accessorials but rtms__Accessorial_Charges__c is 175.00"
    ]


def test_a_negative_charge_names_its_field(invoice_records):
    with pytest.raises(RecordInvalid) as refused:
        RevenovaMapper().to_canonical(_with(invoice_records[1], rtms__Fuel_Surcharge__c="-544.0"))

    assert refused.value.fields["rtms__Fuel_Surcharge__c"] == [
        "a fuel_surcharge line cannot be negative; got -544.00"
    ]


def test_a_discount_is_a_negative_line(invoice_records):
    record = _with(
        invoice_records[0], rtms__Payment_Discount__c="37.5", rtms__Invoice_Total__c="2400.0"
    )

    invoice = RevenovaMapper().to_canonical(record)

    assert invoice.lines[-1].kind == "discount"
    assert invoice.lines[-1].amount == Decimal("-37.50")
    assert invoice.total == Decimal("2400.00")


def test_accessorial_summaries_parse_or_say_which_entry_is_wrong():
    assert parse_accessorial_summary("Lift Gate Delivery=75.00;Detention=100.00;") == [
        ("Lift Gate Delivery", Decimal("75.00")),
        ("Detention", Decimal("100.00")),
    ]
    with pytest.raises(ValueError, match="'Detention' is not 'Name=amount'"):
        parse_accessorial_summary("Lift Gate=75;Detention")
    with pytest.raises(ValueError, match="'x' is not an amount"):
        parse_accessorial_summary("Lift Gate=x")


def test_a_carrier_invoice_becomes_a_carrier_bill():
    record = ReplicaRecord(
        object_type="rtms__CarrierInvoice__c",
        external_id="a0N5e00000Lk3QaEAJ",
        source_version="2025-03-15T10:00:00.000Z",
        notification_id="04l5e00000HcB1BAAV",
        data={
            "Id": "a0N5e00000Lk3QaEAJ",
            "Name": "BILL-01",
            "rtms__Load__c": "a0j5e00000F7wXyAAJ",
            "rtms__Vendor__c": "0015e00000Zr1PqAAJ",
            "CurrencyIsoCode": "USD",
            "rtms__Invoice_Date__c": "2025-03-15",
            "rtms__Invoice_Due_Date__c": "2025-04-14",
            "rtms__Line_Haul__c": "1600.0",
            "rtms__Fuel_Surcharge__c": "300.0",
            "rtms__Accessorial_Charges__c": "75.0",
        },
    )

    bill = RevenovaMapper().to_canonical(record)

    assert isinstance(bill, CarrierBill)
    assert bill.vendor.source_id == "0015e00000Zr1PqAAJ"
    assert [(line.kind, line.amount) for line in bill.lines] == [
        ("line_haul", Decimal("1600.00")),
        ("fuel_surcharge", Decimal("300.00")),
        ("accessorial", Decimal("75.00")),
    ]
    assert bill.total == Decimal("1975.00")


def test_an_unknown_object_is_refused_by_name():
    record = ReplicaRecord(object_type="rtms__Stop__c", external_id="a1", data={"Id": "a1"})

    with pytest.raises(RecordInvalid) as refused:
        RevenovaMapper().to_canonical(record)

    assert refused.value.code == "record_unsupported"
    assert "rtms__Stop__c" in refused.value.message
