"""Canonical records: Decimal money, readable validation, an exact JSON round trip."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.canonical import (
    INVOICE_SCHEMA_VERSION,
    CarrierBill,
    Customer,
    Invoice,
    InvoiceLine,
    Load,
    canonical_build,
    canonical_from_json,
    dumps_exact,
    money,
)
from connectors.errors import RecordInvalid


def invoice_values(**overrides):
    values = {
        "source_system": "Revenova",
        "source_object": "rtms__CustomerInvoice__c",
        "source_id": "a0M5e00000Lk3QaEAJ",
        "source_version": "2025-03-14T16:02:11.000Z",
        "number": "INV-1",
        "customer": {"source_id": "0015e00000Zq8HkAAJ", "display_name": "Great Lakes"},
        "currency": "USD",
        "invoice_date": "2025-03-14",
        "due_date": "2025-04-13",
        "lines": [InvoiceLine.single("line_haul", "Linehaul", "100.00")],
        "total": "100.00",
    }
    values.update(overrides)
    return values


def test_money_is_decimal_at_two_places_rounded_half_up():
    assert money("2437.5") == Decimal("2437.50")
    assert str(money("2437.5")) == "2437.50"
    assert money("2.675") == Decimal("2.68")  # float(2.675) would round to 2.67
    assert money("-0.005") == Decimal("-0.01")
    assert money(3) == Decimal("3.00")


@pytest.mark.parametrize("value", [0.1, 1.0, True, "abc", "NaN", "Infinity", None, [1]])
def test_money_refuses_floats_and_what_is_not_a_finite_number(value):
    with pytest.raises(ValueError):
        money(value)


def test_an_invoice_validates_and_says_its_schema_version():
    invoice = Invoice(**invoice_values())

    assert invoice.schema_version == INVOICE_SCHEMA_VERSION == 1
    assert invoice.record_type == "invoice"
    assert invoice.total == Decimal("100.00")
    assert invoice.invoice_date == date(2025, 3, 14)


def test_tenths_sum_exactly_where_floats_would_not():
    lines = [
        InvoiceLine.single("accessorial", "A", "0.1"),
        InvoiceLine.single("accessorial", "B", "0.2"),
    ]
    assert 0.1 + 0.2 != 0.3

    invoice = Invoice(**invoice_values(lines=lines, total="0.3"))

    assert invoice.total == Decimal("0.30")
    assert canonical_from_json(invoice.to_json()) == invoice


def test_every_problem_is_reported_with_its_field_and_reason():
    with pytest.raises(RecordInvalid) as refused:
        canonical_build(
            Invoice,
            **invoice_values(
                currency="usd",
                invoice_date="14/03/2025",
                lines=[
                    {"kind": "line_haul", "description": "x", "unit_price": 1.5, "amount": "1.5"},
                    {"kind": "surcharge", "description": "y", "unit_price": "1", "amount": "1"},
                ],
            ),
        )

    error = refused.value
    assert error.code == "record_invalid" and error.status == 422
    assert error.fields["currency"] == [
        "'usd' is not an ISO 4217 currency code (three capital letters)"
    ]
    assert error.fields["invoice_date"] == ["'14/03/2025' is not a date (YYYY-MM-DD)"]
    assert error.fields["lines.0.unit_price"] == ["1.5 is a float; give a Decimal or its text"]
    assert "lines.1.kind" in error.fields
    assert "currency" in error.message and "lines.0.unit_price" in error.message


@pytest.mark.parametrize(
    "overrides,reason",
    [
        ({"total": "99.99"}, "lines sum to 100.00 but the total is 99.99"),
        ({"due_date": "2025-03-13"}, "due date 2025-03-13 is before invoice date 2025-03-14"),
        (
            {
                "lines": [
                    {
                        "kind": "line_haul",
                        "description": "x",
                        "quantity": "3",
                        "unit_price": "33.33",
                        "amount": "100.00",
                    }
                ]
            },
            "amount 100.00 is not quantity 3 x unit price 33.33 (= 99.99)",
        ),
        (
            {
                "lines": [
                    InvoiceLine.single("line_haul", "x", "100"),
                    {"kind": "discount", "description": "d", "unit_price": "5", "amount": "5"},
                ],
                "total": "105",
            },
            "a discount is negative; got 5.00",
        ),
    ],
    ids=["total", "due-date", "qty-x-price", "positive-discount"],
)
def test_inconsistent_invoices_are_refused_with_the_reason(overrides, reason):
    with pytest.raises(RecordInvalid) as refused:
        canonical_build(Invoice, **invoice_values(**overrides))

    assert reason in json.dumps(refused.value.fields)


def test_json_round_trip_is_lossless_and_decimals_are_strings():
    invoice = Invoice(
        **invoice_values(
            lines=[
                InvoiceLine(
                    kind="accessorial",
                    description="Detention hours",
                    quantity="2.5",
                    unit_price="40.125",
                    amount="100.31",
                ),
                InvoiceLine.single("discount", "Discount", "-0.31"),
            ],
            total="100.00",
            memo="Note",
        )
    )

    text = invoice.to_json()
    stored = json.loads(text)
    back = canonical_from_json(text)

    assert back == invoice and isinstance(back, Invoice)
    assert stored["lines"][0]["unit_price"] == "40.125"
    assert stored["lines"][0]["amount"] == "100.31"
    assert stored["total"] == "100.00"
    assert canonical_from_json(invoice.to_data()) == invoice


def test_stored_json_with_a_float_amount_is_refused():
    stored = json.loads(Invoice(**invoice_values()).to_json())
    stored["total"] = 100.0

    with pytest.raises(RecordInvalid) as refused:
        canonical_from_json(json.dumps(stored))

    assert "invoice.total" in refused.value.fields


def test_each_record_type_round_trips_through_its_discriminator():
    customer = Customer(
        source_system="Revenova",
        source_object="Account",
        source_id="0015e00000Zq8HkAAJ",
        source_version="ref",
        display_name="Great Lakes",
        email="ap@greatlakes.example",
        billing_address={"line1": "2200 Industrial Pkwy", "city": "Toledo", "region": "OH"},
    )
    load = Load(
        source_system="Revenova",
        source_object="rtms__Load__c",
        source_id="a0j5e00000F7wXyAAJ",
        source_version="v1",
        number="Load-1",
        distance_miles="218.0",
    )
    bill = CarrierBill(
        source_system="Revenova",
        source_object="rtms__CarrierInvoice__c",
        source_id="a0N5e00000Lk3QaEAJ",
        source_version="v1",
        number="BILL-01",
        vendor={"source_id": "0015e00000Zr1PqAAJ"},
        currency="USD",
        bill_date="2025-03-14",
        lines=[InvoiceLine.single("line_haul", "Linehaul", "1975")],
        total="1975",
    )

    for record in (customer, load, bill):
        assert canonical_from_json(record.to_json()) == record
    assert load.distance_miles == Decimal("218.0")


def test_dumps_exact_writes_decimals_as_exact_json_numbers():
    text = dumps_exact({"Amount": Decimal("1850.00"), "Qty": Decimal("1"), "Name": "A & B"})

    assert text == '{"Amount":1850.00,"Qty":1,"Name":"A & B"}'
    assert json.loads(text, parse_float=Decimal)["Amount"] == Decimal("1850.00")
    with pytest.raises(TypeError):
        dumps_exact({"Amount": 1850.0})


cents = st.integers(min_value=0, max_value=10**11).map(lambda n: Decimal(n) / 100)


@given(st.lists(cents, min_size=1, max_size=30))
def test_any_lines_sum_exactly_and_round_trip(amounts):
    lines = [InvoiceLine.single("accessorial", f"A{i}", amount) for i, amount in enumerate(amounts)]
    total = sum(amounts, Decimal(0))

    invoice = Invoice(**invoice_values(lines=lines, total=str(total)))
    back = canonical_from_json(invoice.to_json())

    assert back == invoice
    assert back.total == sum((line.amount for line in back.lines), Decimal("0.00"))


@given(
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000"), places=3),
    st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=4),
)
def test_amount_is_quantity_times_price_rounded_half_up(quantity, unit_price):
    amount = money(quantity * unit_price)

    line = InvoiceLine(
        kind="line_haul", description="x", quantity=quantity, unit_price=unit_price, amount=amount
    )

    assert line.amount == amount and line.amount.as_tuple().exponent == -2
    assert canonical_from_json(
        Invoice(**invoice_values(lines=[line], total=amount)).to_json()
    ).lines == (line,)
