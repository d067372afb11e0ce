"""Layer 3 for Revenova TMS: a replica record → a canonical record.

``rtms__CustomerInvoice__c`` → ``Invoice``, ``rtms__Load__c`` → ``Load``,
``rtms__CarrierInvoice__c`` → ``CarrierBill``. Field names are Revenova's
(PROVIDERS.md R8, R11, R13) plus the four flattened subscriber fields of the
invoice message (§4: ``Load_Number__c``, ``Bill_To_Account_Id__c``,
``Bill_To_Account_Name__c``, ``Accessorial_Summary__c``).

Lines follow Revenova's own QuickBooks export (R10, §4): line haul
(``rtms__Net_Line_Haul__c``), fuel surcharge, one line per accessorial, a
discount (``rtms__Payment_Discount__c``, negative) and tax
(``rtms__Tax_Amount__c``; tax lines do not roll up, R9, so the total is
checked against the lines). Each is quantity 1 at its own amount, so it can
never trip QuickBooks' 6070 (Q36). Numbers are ``xsd:double`` text parsed with
``Decimal(text)``, never float (§4, pitfall 13).

A record that cannot be mapped raises ``RecordInvalid`` (422) naming every
bad field; the other records of the same message are unaffected.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from connectors.canonical import (
    ZERO,
    CanonicalRecord,
    CarrierBill,
    Invoice,
    InvoiceLine,
    Load,
    canonical_build,
    decimal_of,
    money,
    readable_errors,
)
from connectors.errors import RecordInvalid
from connectors.sdk.interfaces import ReplicaRecord

SOURCE_SYSTEM = "Revenova"
CUSTOMER_INVOICE = "rtms__CustomerInvoice__c"
LOAD = "rtms__Load__c"
CARRIER_INVOICE = "rtms__CarrierInvoice__c"
#: A tax line's hint, and the hint on every line of an invoice that carries tax.
TAXED = "TAX"


class _Fields:
    """Reads a replica's text fields, collecting every problem instead of stopping at one."""

    def __init__(self, record: ReplicaRecord) -> None:
        self.data: Mapping[str, Any] = record.data
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, reason: str) -> None:
        self.errors.setdefault(name, []).append(reason)

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, "is missing")
            return None
        return str(value).strip()

    def money(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return money(value)
        except ValueError as exc:
            self.fail(name, str(exc))
            return None

    def number(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return decimal_of(value)
        except ValueError as exc:
            self.fail(name, str(exc))
            return None

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(name, f"{value!r} is not a date (YYYY-MM-DD)")
            return None

    def flag(self, name: str) -> bool | None:
        value = self.text(name)
        if value is None:
            return None
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        self.fail(name, f"{value!r} is not true or false")
        return None

    def line(
        self, name: str, kind: str, description: str, amount: Decimal, **extra: Any
    ) -> list[InvoiceLine]:
        """A quantity-1 line for field ``name``'s amount; none for zero; a failure on ``name``."""
        if not amount:
            return []
        try:
            return [InvoiceLine.single(kind, description, amount, **extra)]
        except ValidationError as exc:
            for reasons in readable_errors(exc).values():
                for reason in reasons:
                    self.fail(name, reason)
            return []

    def raise_if_failed(self, record: ReplicaRecord) -> None:
        if self.errors:
            summary = "; ".join(f"{name} {', '.join(why)}" for name, why in self.errors.items())
            raise RecordInvalid(
                f"{record.object_type} {record.external_id or '(no Id)'} cannot be mapped: "
                f"{summary}",
                fields=self.errors,
            )


def parse_accessorial_summary(text: str) -> list[tuple[str, Decimal]]:
    """``"Lift Gate Delivery=75.00;Detention=100.00"`` → ``[(name, amount), ...]`` (§4).

    Raises ``ValueError`` naming the bad entry.
    """
    charges = []
    for entry in text.split(";"):
        if not entry.strip():
            continue
        name, separator, amount = entry.rpartition("=")
        if not separator or not name.strip():
            raise ValueError(f"{entry.strip()!r} is not 'Name=amount'")
        try:
            charges.append((name.strip(), money(amount)))
        except ValueError:
            raise ValueError(f"{entry.strip()!r}: {amount.strip()!r} is not an amount") from None
    return charges


def _source(record: ReplicaRecord, fields: _Fields) -> dict[str, str]:
    if not record.external_id:
        fields.fail("Id", "is missing")
    version = record.source_version or fields.text("LastModifiedDate", required=True) or ""
    return {
        "source_system": SOURCE_SYSTEM,
        "source_object": record.object_type,
        "source_id": record.external_id,
        "source_version": version,
    }


def _suffix(load_number: str | None) -> str:
    return f" - {load_number}" if load_number else ""


def _accessorial_lines(fields: _Fields, taxed: str | None) -> list[InvoiceLine]:
    charged = fields.money("rtms__Accessorial_Charges__c")
    summary = fields.text("Accessorial_Summary__c")
    if summary is None:
        return fields.line(
            "rtms__Accessorial_Charges__c",
            "accessorial",
            "Accessorials",
            charged or ZERO,
            tax_code_hint=taxed,
        )
    try:
        charges = parse_accessorial_summary(summary)
    except ValueError as exc:
        fields.fail("Accessorial_Summary__c", str(exc))
        return []
    listed = sum((amount for _, amount in charges), ZERO)
    if charged is not None and listed != charged:
        fields.fail(
            "Accessorial_Summary__c",
            f"lists {listed} of accessorials but rtms__Accessorial_Charges__c is {charged}",
        )
    lines = []
    for name, amount in charges:
        lines += fields.line(
            "Accessorial_Summary__c",
            "accessorial",
            f"Accessorial: {name}",
            amount,
            code=name,
            tax_code_hint=taxed,
        )
    return lines


def _memo(load_number: str | None, load: Load | None) -> str | None:
    """ "Load Load-104877, Toledo, OH to Indianapolis, IN. PO-88412" when the load is known."""
    if load is None:
        return f"Load {load_number}" if load_number else None
    text = f"Load {load.number}"
    if load.city_lane and ":" in load.city_lane:
        origin, _, destination = load.city_lane.partition(":")
        text += f", {origin.strip()} to {destination.strip()}"
    text += "."
    if load.po_number:
        text += f" {load.po_number}"
    return text


def invoice_from_replica(record: ReplicaRecord, *, load: Load | None = None) -> Invoice:
    """``rtms__CustomerInvoice__c`` → ``Invoice``; ``load`` (its ``rtms__Load__c``), when the
    pipeline holds it, adds the lane and PO number to the customer memo."""
    fields = _Fields(record)
    source = _source(record, fields)
    number = fields.text("Name", required=True)
    load_number = fields.text("Load_Number__c") or (load.number if load else None)
    currency = fields.text("CurrencyIsoCode", required=True)
    invoice_date = fields.day("rtms__Invoice_Date__c", required=True)
    due_date = fields.day("rtms__Invoice_Due_Date__c")
    total = fields.money("rtms__Invoice_Total__c", required=True)
    customer_id = fields.text("Bill_To_Account_Id__c", required=True)
    customer_name = fields.text("Bill_To_Account_Name__c", required=True)
    tax = fields.money("rtms__Tax_Amount__c") or ZERO
    taxed = TAXED if tax else None

    lines = fields.line(
        "rtms__Net_Line_Haul__c",
        "line_haul",
        f"Linehaul{_suffix(load_number)}",
        fields.money("rtms__Net_Line_Haul__c", required=True) or ZERO,
        tax_code_hint=taxed,
    )
    lines += fields.line(
        "rtms__Fuel_Surcharge__c",
        "fuel_surcharge",
        f"Fuel Surcharge{_suffix(load_number)}",
        fields.money("rtms__Fuel_Surcharge__c") or ZERO,
        tax_code_hint=taxed,
    )
    lines += _accessorial_lines(fields, taxed)
    discount = fields.money("rtms__Payment_Discount__c") or ZERO
    lines += fields.line("rtms__Payment_Discount__c", "discount", "Discount", -abs(discount))
    lines += fields.line("rtms__Tax_Amount__c", "tax", "Sales tax", tax, tax_code_hint=TAXED)
    if not lines and not fields.errors:
        fields.fail("rtms__Invoice_Total__c", "the invoice has no charge to bill")
    fields.raise_if_failed(record)

    terms_days = (due_date - invoice_date).days if due_date and invoice_date else None
    return canonical_build(
        Invoice,
        **source,
        number=number,
        customer={"source_id": customer_id, "display_name": customer_name},
        currency=currency,
        invoice_date=invoice_date,
        due_date=due_date,
        terms_days=terms_days if terms_days is not None and terms_days >= 0 else None,
        memo=_memo(load_number, load),
        load_number=load_number,
        lines=lines,
        total=total,
    )


def load_from_replica(record: ReplicaRecord) -> Load:
    """``rtms__Load__c`` → ``Load`` (R13)."""
    fields = _Fields(record)
    source = _source(record, fields)
    values = {
        "number": fields.text("Name", required=True),
        "status": fields.text("rtms__Load_Status__c"),
        "mode": fields.text("rtms__Mode_Name__c"),
        "bill_to_id": fields.text("rtms__Bill_To__c"),
        "carrier_id": fields.text("rtms__Carrier__c"),
        "order_number": fields.text("rtms__Order_Number__c"),
        "po_number": fields.text("rtms__PO_Number__c"),
        "pro_number": fields.text("rtms__PRO_Number__c"),
        "bill_of_lading_number": fields.text("rtms__Bill_of_Lading_Number__c"),
        "origin": fields.text("rtms__Origin__c"),
        "destination": fields.text("rtms__Destination__c"),
        "city_lane": fields.text("rtms__City_Lane__c"),
        "ship_from_address": fields.text("rtms__Ship_From_Address__c"),
        "ship_to_address": fields.text("rtms__Ship_To_Address__c"),
        "order_date": fields.day("rtms__Order_Date__c"),
        "expected_ship_date": fields.day("rtms__Expected_Ship_Date2__c"),
        "expected_delivery_date": fields.day("rtms__Expected_Delivery_Date2__c"),
        "distance_miles": fields.number("rtms__Distance_Miles__c"),
        "total_weight": fields.number("rtms__Total_Weight__c"),
        "weight_units": fields.text("rtms__Weight_Units__c"),
        "currency": fields.text("CurrencyIsoCode"),
        "customer_invoice_total": fields.money("rtms__Customer_Invoice_Total__c"),
        "carrier_invoice_total": fields.money("rtms__Carrier_Invoice_Total__c"),
        "hazardous_materials": fields.flag("rtms__Hazardous_Materials__c"),
        "pod_received": fields.flag("rtms__POD_Received__c"),
    }
    fields.raise_if_failed(record)
    return canonical_build(Load, **source, **values)


def carrier_bill_from_replica(record: ReplicaRecord) -> CarrierBill:
    """``rtms__CarrierInvoice__c`` → ``CarrierBill`` (R11; no recorded message yet, §4).

    The total is line haul + fuel surcharge + accessorial charges: R11 lists no
    total field on the carrier invoice.
    """
    fields = _Fields(record)
    source = _source(record, fields)
    number = fields.text("Name", required=True)
    vendor_id = fields.text("rtms__Vendor__c", required=True)
    currency = fields.text("CurrencyIsoCode", required=True)
    bill_date = fields.day("rtms__Invoice_Date__c", required=True)
    due_date = fields.day("rtms__Invoice_Due_Date__c")
    lines: list[InvoiceLine] = []
    for kind, name, label in (
        ("line_haul", "rtms__Line_Haul__c", "Linehaul"),
        ("fuel_surcharge", "rtms__Fuel_Surcharge__c", "Fuel Surcharge"),
        ("accessorial", "rtms__Accessorial_Charges__c", "Accessorials"),
    ):
        amount = fields.money(name, required=kind == "line_haul") or ZERO
        lines += fields.line(name, kind, label, amount)
    if not lines and not fields.errors:
        fields.fail("rtms__Line_Haul__c", "the bill has no charge")
    fields.raise_if_failed(record)
    return canonical_build(
        CarrierBill,
        **source,
        number=number,
        vendor={"source_id": vendor_id},
        load_id=fields.text("rtms__Load__c"),
        currency=currency,
        bill_date=bill_date,
        due_date=due_date,
        lines=lines,
        total=sum((line.amount for line in lines), ZERO),
    )


class RevenovaMapper:
    """The ``Mapper`` of ``connectors.sdk.interfaces``.

    ``to_canonical(record)`` is the protocol's call. The optional ``related``
    (replica records by external id) lets the pipeline hand over what
    ``related_ids(record)`` asked for — the invoice's load — to enrich the memo.
    """

    object_types = (CUSTOMER_INVOICE, LOAD, CARRIER_INVOICE)

    def related_ids(self, record: ReplicaRecord) -> list[tuple[str, str]]:
        """(object type, external id) of the replicas that improve this record's mapping."""
        if record.object_type == CUSTOMER_INVOICE and record.data.get("rtms__Load__c"):
            return [(LOAD, str(record.data["rtms__Load__c"]))]
        return []

    def to_canonical(
        self, record: ReplicaRecord, *, related: Mapping[str, ReplicaRecord] | None = None
    ) -> CanonicalRecord:
        if record.object_type == CUSTOMER_INVOICE:
            load = None
            load_record = (related or {}).get(str(record.data.get("rtms__Load__c") or ""))
            if load_record is not None and load_record.object_type == LOAD:
                try:
                    load = load_from_replica(load_record)
                except RecordInvalid:
                    load = None  # a bad load only loses the memo's detail, not the invoice
            return invoice_from_replica(record, load=load)
        if record.object_type == LOAD:
            return load_from_replica(record)
        if record.object_type == CARRIER_INVOICE:
            return carrier_bill_from_replica(record)
        raise RecordInvalid(
            f"Revenova has no mapping for {record.object_type} records.",
            fields={"object_type": [f"{record.object_type} is not one of {self.object_types}"]},
            code="record_unsupported",
        )
