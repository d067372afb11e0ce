"""QuickBooks L4: the golden invoice body, validation with element paths, requestids, readers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connectors.canonical import Customer, Invoice, dumps_exact
from connectors.errors import PayloadInvalid
from connectors.quickbooks.connector import QuickBooks
from connectors.quickbooks.outbound import (
    QuickBooksOutbound,
    customer_create_request,
    customer_query,
    read_customer_query,
    read_customer_response,
    read_invoice_response,
)
from connectors.quickbooks.sandbox import query as sandbox_query
from tests.connectors.pipeline_parts.conftest import GOLDEN_MAPPING, fixture_bytes

OUTBOUND = QuickBooksOutbound()


def build(invoice: Invoice, mapping=GOLDEN_MAPPING, refs=None, tenant="acme"):
    return OUTBOUND.build(
        invoice, mapping=mapping, refs={"customer": "58"} if refs is None else refs, tenant=tenant
    )


def test_the_fixtures_first_invoice_gives_exactly_the_golden_body(usd_invoice):
    request = build(usd_invoice)

    golden = json.loads(fixture_bytes("qbo_invoice_create_request.json"), parse_float=Decimal)
    sent = dumps_exact(request.body)
    assert json.loads(sent, parse_float=Decimal) == golden
    assert list(request.body) == list(golden)  # the same elements, in the same order
    assert '"Amount":412.50' in sent and '"UnitPrice":1850.00' in sent  # exact, not float text
    assert (request.method, request.path) == ("POST", "invoice")
    assert request.params == {"requestid": request.idempotency_key}


def test_the_connector_declares_its_outbound_and_webhooks():
    assert isinstance(QuickBooks.outbound, QuickBooksOutbound)
    assert QuickBooks.webhooks is not None


def test_the_cad_invoice_books_its_tax_on_the_header_with_taxed_lines(cad_invoice):
    mapping = {"items": {"line_haul": "21", "fuel_surcharge": "22"}, "tax_code": "5"}

    body = build(cad_invoice, mapping=mapping).body

    assert [line["Amount"] for line in body["Line"]] == [Decimal("3200.00"), Decimal("544.00")]
    assert [line["SalesItemLineDetail"]["TaxCodeRef"] for line in body["Line"]] == [
        {"value": "5"},
        {"value": "5"},
    ]
    assert body["Line"][0]["SalesItemLineDetail"]["ItemRef"] == {"value": "21"}
    assert body["TxnTaxDetail"] == {"TotalTax": Decimal("187.20")}
    assert body["CurrencyRef"] == {"value": "CAD"}


def test_terms_and_email_are_sent_when_known(usd_invoice):
    customer = usd_invoice.customer.model_copy(update={"email": "ap@greatlakes.example"})
    invoice = usd_invoice.model_copy(update={"customer": customer})

    body = build(invoice, mapping={**GOLDEN_MAPPING, "default_terms_id": "3"}).body

    assert body["SalesTermRef"] == {"value": "3"}
    assert body["BillEmail"] == {"Address": "ap@greatlakes.example"}


def refused(invoice, **kwargs) -> PayloadInvalid:
    with pytest.raises(PayloadInvalid) as error:
        build(invoice, **kwargs)
    assert error.value.code == "payload_invalid" and error.value.status == 422
    return error.value


def test_a_missing_customer_reference_is_refused(usd_invoice):
    error = refused(usd_invoice, refs={})

    assert error.fields == {"CustomerRef": ["no QuickBooks customer is resolved for this invoice"]}


def test_an_unmapped_line_kind_names_its_element(usd_invoice):
    mapping = {"items": {"line_haul": "21", "fuel_surcharge": "22"}}

    error = refused(usd_invoice, mapping=mapping)

    assert error.fields == {
        "Line[3].SalesItemLineDetail.ItemRef": [
            "no QuickBooks item is mapped for a accessorial line (route mapping "
            "items.accessorial or items.accessorial:Lift Gate Delivery)"
        ],
        "Line[4].SalesItemLineDetail.ItemRef": [
            "no QuickBooks item is mapped for a accessorial line (route mapping "
            "items.accessorial or items.accessorial:Detention)"
        ],
    }


def test_a_kind_wide_item_books_every_charge_of_that_kind(usd_invoice):
    mapping = {"items": {"line_haul": "21", "fuel_surcharge": "22", "accessorial": "23"}}

    body = build(usd_invoice, mapping=mapping).body

    assert [line["SalesItemLineDetail"]["ItemRef"]["value"] for line in body["Line"]] == [
        "21",
        "22",
        "23",
        "23",
    ]


def test_a_taxed_invoice_without_a_tax_code_is_refused(cad_invoice):
    error = refused(cad_invoice, mapping={"items": {"line_haul": "21", "fuel_surcharge": "22"}})

    assert set(error.fields) == {
        "Line[1].SalesItemLineDetail.TaxCodeRef",
        "Line[2].SalesItemLineDetail.TaxCodeRef",
        "TxnTaxDetail",
    }


def test_header_problems_are_all_named(usd_invoice):
    # model_copy does not validate: the canonical checks are bypassed, as a bug upstream would.
    bad = usd_invoice.model_copy(
        update={
            "number": "INV-" + "9" * 18,
            "due_date": usd_invoice.invoice_date.replace(day=1),
            "currency": "usd",
            "total": Decimal("2437.49"),
        }
    )

    error = refused(bad)

    assert error.fields == {
        "DocNumber": ["'INV-999999999999999999' is longer than 21 characters (Q37)"],
        "DueDate": ["2025-03-01 is before TxnDate 2025-03-14"],
        "CurrencyRef": ["'usd' is not a three-letter currency code"],
        "Line": ["lines and tax sum to 2437.50, not the total 2437.49"],
    }
    assert error.message.startswith("Invoice INV-999999999999999999 would be refused by QuickBooks")


def test_an_amount_that_is_not_unit_price_times_qty_is_refused(usd_invoice):
    line = usd_invoice.lines[1].model_copy(update={"quantity": Decimal("2")})
    bad = usd_invoice.model_copy(update={"lines": (usd_invoice.lines[0], line)})

    error = refused(bad, mapping=GOLDEN_MAPPING)

    assert error.fields["Line[2].Amount"] == [
        "Amount 412.50 is not UnitPrice 412.50 x Qty 2 (6070)"
    ]


def test_a_malformed_mapping_is_named(usd_invoice):
    error = refused(usd_invoice, mapping={"items": {"line_haul": {"name": "x"}}})

    assert error.fields == {"mapping.items.line_haul.value": ["Field required"]}


def test_only_an_invoice_is_built():
    with pytest.raises(PayloadInvalid) as error:
        OUTBOUND.build(None, mapping=GOLDEN_MAPPING, refs={"customer": "58"}, tenant="t")

    assert error.value.fields == {"record": ["not an Invoice"]}


# --- requestid -----------------------------------------------------------------------------


def test_the_requestid_is_deterministic_short_and_new_for_a_new_version(usd_invoice):
    first = build(usd_invoice).idempotency_key
    again = build(usd_invoice).idempotency_key
    newer = build(
        usd_invoice.model_copy(update={"source_version": "2025-03-15T08:00:00.000Z"})
    ).idempotency_key
    other_tenant = build(usd_invoice, tenant="globex").idempotency_key

    assert first == again
    assert len(first) <= 50
    assert len({first, newer, other_tenant}) == 3


def test_updates_are_sparse_and_have_their_own_requestid(usd_invoice):
    create = build(usd_invoice)

    update = OUTBOUND.invoice_update_request(
        usd_invoice, "1045", "0", mapping=GOLDEN_MAPPING, refs={"customer": "58"}, tenant="acme"
    )
    retried = OUTBOUND.invoice_update_request(
        usd_invoice, "1045", "1", mapping=GOLDEN_MAPPING, refs={"customer": "58"}, tenant="acme"
    )

    assert update.body == {"Id": "1045", "SyncToken": "0", "sparse": True, **create.body}
    assert len({create.idempotency_key, update.idempotency_key, retried.idempotency_key}) == 3
    with pytest.raises(PayloadInvalid) as error:
        OUTBOUND.invoice_update_request(
            usd_invoice, "1045", "", mapping=GOLDEN_MAPPING, refs={"customer": "58"}, tenant="a"
        )
    assert "SyncToken" in error.value.fields


# --- customers and answers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Great Lakes Packaging & Supply Co.", "O'Brien's Haulage", "Back\\slash 'n' co"]
)
def test_customer_query_escapes_the_name_as_the_query_language_reads_it(name):
    request = customer_query(name)

    parsed = sandbox_query.parse(request.params["query"])
    assert (request.method, request.path) == ("GET", "query")
    assert parsed.entity == "Customer"
    assert parsed.conditions == [("DisplayName", name)]


def test_customer_query_escapes_quotes():
    assert customer_query("O'Brien").params["query"] == (
        "select * from Customer where DisplayName = 'O\\'Brien'"
    )


def test_customer_create_body_and_requestid(usd_invoice):
    customer = Customer.from_ref(
        usd_invoice.customer.model_copy(
            update={
                "email": "ap@greatlakes.example",
                "billing_address": {"line1": "2200 Industrial Pkwy", "city": "Toledo",
                                    "region": "OH", "postal_code": "43612"},
            }
        ),
        source_system="Revenova",
        currency="USD",
    )  # fmt: skip

    request = customer_create_request(customer, tenant="acme")

    assert (request.method, request.path) == ("POST", "customer")
    assert request.body == {
        "DisplayName": "Great Lakes Packaging & Supply Co.",
        "CompanyName": "Great Lakes Packaging & Supply Co.",
        "PrimaryEmailAddr": {"Address": "ap@greatlakes.example"},
        "BillAddr": {
            "Line1": "2200 Industrial Pkwy",
            "City": "Toledo",
            "CountrySubDivisionCode": "OH",
            "PostalCode": "43612",
        },
        "CurrencyRef": {"value": "USD"},
    }
    assert (
        request.idempotency_key == customer_create_request(customer, tenant="acme").idempotency_key
    )
    assert len(request.idempotency_key) <= 50


def test_the_create_answer_is_read_without_the_subtotal_line():
    answer = read_invoice_response(fixture_bytes("qbo_invoice_create_response.json"))

    assert (answer.id, answer.sync_token, answer.doc_number) == ("1045", "0", "INV-104233")
    assert answer.total == Decimal("2437.5")
    assert [line["LineNum"] for line in answer.lines] == [1, 2, 3, 4]
    assert all(line["DetailType"] == "SalesItemLineDetail" for line in answer.lines)


def test_the_answer_parsed_by_requests_reads_the_same():
    parsed = json.loads(fixture_bytes("qbo_invoice_create_response.json"))

    assert read_invoice_response(parsed).total == Decimal("2437.5")


def test_customer_answers_are_read():
    created = read_customer_response(
        {"Customer": {"Id": "59", "SyncToken": "0", "DisplayName": "Maple Ridge Foods Ltd."}}
    )
    found = read_customer_query(
        {"QueryResponse": {"Customer": [{"Id": "58", "SyncToken": "2", "DisplayName": "GL"}]}}
    )

    assert (created.id, created.sync_token) == ("59", "0")
    assert [(c.id, c.sync_token, c.display_name) for c in found] == [("58", "2", "GL")]
    assert read_customer_query({"QueryResponse": {}}) == []
    with pytest.raises(PayloadInvalid):
        read_invoice_response({"Fault": {}})
