"""Layer 4 for QuickBooks Online: a canonical ``Invoice`` → the v3 invoice request, validated.

``QuickBooksOutbound.build(invoice, mapping=..., refs=..., tenant=...)`` returns
an ``OutboundRequest`` for ``POST invoice`` whose body is what QuickBooks takes
(Q36-Q37; ``fixtures/qbo_invoice_create_request.json`` is the golden file) and
whose ``idempotency_key`` is the ``requestid`` (Q22): a UUIDv5 of tenant,
source object, source id, source version and operation — 36 characters, the
same for every retry of one version, new for a changed record (§4).

The route's mapping (``RouteMapping``) says which QuickBooks Item each line
books to — by kind (``"line_haul"``) or, more precisely, by kind and the
source's charge name (``"accessorial:Detention"``) — the tax code for taxed
lines, and default terms. ``refs`` holds resolved QuickBooks ids
(``{"customer": "58"}``).

Everything QuickBooks would refuse and we can see is refused first, as
``PayloadInvalid`` (422) naming each element path: a missing ``CustomerRef``
(2020/2500), an unmapped item, ``Amount`` ≠ ``UnitPrice`` x ``Qty`` (6070),
lines not summing to the total, ``DueDate`` before ``TxnDate``, a currency that
is not three letters, ``DocNumber`` over 21 characters (Q37).

Body amounts are ``Decimal``; send them with ``connectors.canonical.dumps_exact``
(``json.dumps`` cannot write a Decimal, a float would not be exact).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from connectors.canonical import CENT, ZERO, Customer, Invoice, InvoiceLine, readable_errors
from connectors.errors import PayloadInvalid
from connectors.sdk.interfaces import OutboundRequest

DOC_NUMBER_MAX = 21  # Q37
REQUESTID_MAX = 50  # Q22
#: Fixed forever: changing it would give every record a new requestid (and a duplicate).
REQUESTID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://nexiom.io/quickbooks/requestid")
_CURRENCY = re.compile(r"[A-Z]{3}")


# --- the route's mapping ---------------------------------------------------------------------


def _item_ref(value: Any) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return {"value": str(value)}
    return value


class ItemRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    value: Annotated[str, Field(min_length=1)]
    name: str | None = None

    def as_ref(self) -> dict[str, str]:
        return {"value": self.value, **({"name": self.name} if self.name else {})}


class RouteMapping(BaseModel):
    """A QuickBooks company's booking data for one route.

    ``items`` maps a line kind (``line_haul``, ``fuel_surcharge``, ``accessorial``,
    ``discount``) — or ``"<kind>:<charge name>"`` for one charge — to an Item id
    (``"21"``) or ``{"value": "21", "name": "Linehaul"}``. Taxed lines get
    ``tax_codes[<hint>]`` or else ``tax_code``; ``default_terms_id`` becomes
    ``SalesTermRef``.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    items: dict[str, Annotated[ItemRef, BeforeValidator(_item_ref)]] = Field(default_factory=dict)
    tax_code: str | None = None
    tax_codes: dict[str, str] = Field(default_factory=dict)
    default_terms_id: str | None = None

    def item_for(self, line: InvoiceLine) -> ItemRef | None:
        if line.code:
            specific = self.items.get(f"{line.kind}:{line.code}")
            if specific is not None:
                return specific
        return self.items.get(line.kind)

    def tax_code_for(self, hint: str) -> str | None:
        return self.tax_codes.get(hint) or self.tax_code


def route_mapping(mapping: Mapping[str, Any] | RouteMapping) -> RouteMapping:
    if isinstance(mapping, RouteMapping):
        return mapping
    try:
        return RouteMapping.model_validate(dict(mapping))
    except ValidationError as exc:
        fields = {f"mapping.{where}": why for where, why in readable_errors(exc).items()}
        raise PayloadInvalid("The route's QuickBooks mapping is invalid.", fields=fields) from None


# --- requestid ---------------------------------------------------------------------------------


def request_id(
    *, tenant: str, source_object: str, source_id: str, version: str, operation: str
) -> str:
    """The deterministic ``requestid`` (Q22, §4): one per (tenant, record, version, operation)."""
    if not (tenant and source_id and version):
        raise PayloadInvalid(
            "A requestid needs the tenant, the source id and the source version.",
            fields={"requestid": ["tenant, source id and source version are required"]},
        )
    name = "\n".join((tenant, source_object, source_id, version, operation))
    return str(uuid.uuid5(REQUESTID_NAMESPACE, name))  # 36 characters, under REQUESTID_MAX


# --- invoices ------------------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, path: str, reason: str) -> None:
        self.fields.setdefault(path, []).append(reason)

    def raise_if_any(self, what: str) -> None:
        if self.fields:
            summary = "; ".join(f"{path}: {', '.join(why)}" for path, why in self.fields.items())
            raise PayloadInvalid(
                f"{what} would be refused by QuickBooks: {summary}", fields=self.fields
            )


def _private_note(invoice: Invoice) -> str:
    load = f" {invoice.load_number}" if invoice.load_number else ""
    return f"{invoice.source_system}{load} | {invoice.source_object} {invoice.source_id}"


def _sales_line(
    number: int, line: InvoiceLine, mapping: RouteMapping, problems: _Problems
) -> dict[str, Any]:
    path = f"Line[{number}]"
    detail: dict[str, Any] = {}
    item = mapping.item_for(line)
    if item is None:
        wanted = f"items.{line.kind}" + (f" or items.{line.kind}:{line.code}" if line.code else "")
        problems.add(
            f"{path}.SalesItemLineDetail.ItemRef",
            f"no QuickBooks item is mapped for a {line.kind} line (route mapping {wanted})",
        )
    else:
        detail["ItemRef"] = item.as_ref()
    detail["Qty"] = line.quantity
    detail["UnitPrice"] = line.unit_price
    if line.tax_code_hint:
        code = mapping.tax_code_for(line.tax_code_hint)
        if code is None:
            problems.add(
                f"{path}.SalesItemLineDetail.TaxCodeRef",
                f"the line is taxed ({line.tax_code_hint}) but the route maps no tax code",
            )
        else:
            detail["TaxCodeRef"] = {"value": code}
    expected = (line.quantity * line.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
    if line.amount != expected:
        problems.add(
            f"{path}.Amount",
            f"Amount {line.amount} is not UnitPrice {line.unit_price} x Qty {line.quantity} (6070)",
        )
    return {
        "LineNum": number,
        "Description": line.description,
        "Amount": line.amount,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": detail,
    }


def invoice_body(
    invoice: Invoice, *, mapping: Mapping[str, Any] | RouteMapping, refs: Mapping[str, str]
) -> dict[str, Any]:
    """The invoice's QuickBooks body (Q36-Q37), or ``PayloadInvalid`` naming every bad element."""
    if not isinstance(invoice, Invoice):
        raise PayloadInvalid(
            f"QuickBooks invoices are built from an Invoice, not {type(invoice).__name__}.",
            fields={"record": ["not an Invoice"]},
        )
    booking = route_mapping(mapping)
    problems = _Problems()
    if len(invoice.number) > DOC_NUMBER_MAX:
        problems.add(
            "DocNumber", f"{invoice.number!r} is longer than {DOC_NUMBER_MAX} characters (Q37)"
        )
    if invoice.due_date is not None and invoice.due_date < invoice.invoice_date:
        problems.add("DueDate", f"{invoice.due_date} is before TxnDate {invoice.invoice_date}")
    if not _CURRENCY.fullmatch(invoice.currency):
        problems.add("CurrencyRef", f"{invoice.currency!r} is not a three-letter currency code")
    customer_id = (refs.get("customer") or "").strip()
    if not customer_id:
        problems.add("CustomerRef", "no QuickBooks customer is resolved for this invoice")

    body: dict[str, Any] = {
        "DocNumber": invoice.number,
        "TxnDate": invoice.invoice_date.isoformat(),
    }
    if invoice.due_date is not None:
        body["DueDate"] = invoice.due_date.isoformat()
    body["CustomerRef"] = {"value": customer_id, "name": invoice.customer.display_name}
    body["CurrencyRef"] = {"value": invoice.currency}
    body["PrivateNote"] = _private_note(invoice)
    if invoice.memo:
        body["CustomerMemo"] = {"value": invoice.memo}
    if invoice.customer.email:
        body["BillEmail"] = {"Address": invoice.customer.email}
    if booking.default_terms_id:
        body["SalesTermRef"] = {"value": booking.default_terms_id}

    lines = []
    tax = ZERO
    for line in invoice.lines:
        if line.kind == "tax":
            tax += line.amount  # QuickBooks carries tax on the header, not as a line
            continue
        lines.append(_sales_line(len(lines) + 1, line, booking, problems))
    if not lines:
        problems.add("Line", "an invoice needs at least one sales line (Q36)")
    body["Line"] = lines
    if tax:
        body["TxnTaxDetail"] = {"TotalTax": tax}
        if not any("TaxCodeRef" in line["SalesItemLineDetail"] for line in lines):
            problems.add("TxnTaxDetail", "the invoice carries tax but no line is taxed")
    summed = sum((line["Amount"] for line in lines), ZERO) + tax
    if summed != invoice.total:
        problems.add("Line", f"lines and tax sum to {summed}, not the total {invoice.total}")
    problems.raise_if_any(f"Invoice {invoice.number}")
    return body


class QuickBooksOutbound:
    """The ``Outbound`` of ``connectors.sdk.interfaces`` for QuickBooks Online."""

    def build(
        self,
        canonical: Any,
        *,
        mapping: Mapping[str, Any],
        refs: Mapping[str, str],
        tenant: str,
    ) -> OutboundRequest:
        """``POST invoice`` creating ``canonical`` (an ``Invoice``), with its ``requestid``."""
        body = invoice_body(canonical, mapping=mapping, refs=refs)
        key = request_id(
            tenant=tenant,
            source_object=canonical.source_object,
            source_id=canonical.source_id,
            version=canonical.source_version,
            operation="invoice.create",
        )
        return OutboundRequest(
            method="POST", path="invoice", body=body, idempotency_key=key, params={"requestid": key}
        )

    def invoice_update_request(
        self,
        canonical: Invoice,
        qbo_id: str,
        sync_token: str,
        *,
        mapping: Mapping[str, Any],
        refs: Mapping[str, str],
        tenant: str,
    ) -> OutboundRequest:
        """A sparse update (Q23) of invoice ``qbo_id`` at ``sync_token``: the header fields
        and every line are replaced. After a 5010 stale-object fault, re-read the invoice and
        call again with the new SyncToken (the requestid changes with it)."""
        return invoice_update_request(
            canonical, qbo_id, sync_token, mapping=mapping, refs=refs, tenant=tenant
        )


def invoice_update_request(
    canonical: Invoice,
    qbo_id: str,
    sync_token: str,
    *,
    mapping: Mapping[str, Any],
    refs: Mapping[str, str],
    tenant: str,
) -> OutboundRequest:
    """See ``QuickBooksOutbound.invoice_update_request``."""
    problems = _Problems()
    if not str(qbo_id).strip():
        problems.add("Id", "the QuickBooks invoice id is required for an update")
    if not str(sync_token).strip():
        problems.add("SyncToken", "the current SyncToken is required for an update (Q23)")
    problems.raise_if_any(f"Invoice {canonical.number} update")
    body = {
        "Id": str(qbo_id),
        "SyncToken": str(sync_token),
        "sparse": True,
        **invoice_body(canonical, mapping=mapping, refs=refs),
    }
    key = request_id(
        tenant=tenant,
        source_object=canonical.source_object,
        source_id=canonical.source_id,
        version=canonical.source_version,
        operation=f"invoice.update\n{qbo_id}\n{sync_token}",
    )
    return OutboundRequest(
        method="POST", path="invoice", body=body, idempotency_key=key, params={"requestid": key}
    )


# --- customers ---------------------------------------------------------------------------------


def customer_query(display_name: str) -> OutboundRequest:
    """``GET query`` for the customer named ``display_name`` (a quote or backslash in the name
    is escaped with a backslash, as the query language wants)."""
    escaped = display_name.replace("\\", "\\\\").replace("'", "\\'")
    # Not SQL: QuickBooks' query language, escaped as it specifies.
    statement = f"select * from Customer where DisplayName = '{escaped}'"  # noqa: S608
    return OutboundRequest(
        method="GET", path="query", body={}, idempotency_key="", params={"query": statement}
    )


def customer_create_request(customer: Customer, *, tenant: str) -> OutboundRequest:
    """``POST customer`` (Q39): ``DisplayName`` (unique: 6240 on a clash — query first),
    company, email, billing address, currency."""
    if not isinstance(customer, Customer):
        raise PayloadInvalid(
            f"QuickBooks customers are built from a Customer, not {type(customer).__name__}.",
            fields={"record": ["not a Customer"]},
        )
    body: dict[str, Any] = {"DisplayName": customer.display_name}
    if customer.company_name:
        body["CompanyName"] = customer.company_name
    if customer.email:
        body["PrimaryEmailAddr"] = {"Address": customer.email}
    address = customer.billing_address
    if address is not None:
        parts = {
            "Line1": address.line1,
            "Line2": address.line2,
            "City": address.city,
            "CountrySubDivisionCode": address.region,
            "PostalCode": address.postal_code,
            "Country": address.country,
        }
        body["BillAddr"] = {key: value for key, value in parts.items() if value}
    if customer.currency:
        body["CurrencyRef"] = {"value": customer.currency}
    key = request_id(
        tenant=tenant,
        source_object=customer.source_object,
        source_id=customer.source_id,
        version=customer.display_name,
        operation="customer.create",
    )
    return OutboundRequest(
        method="POST", path="customer", body=body, idempotency_key=key, params={"requestid": key}
    )


# --- reading answers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QboInvoice:
    """What to keep from an invoice create/update answer (Q38): ids, version, number, lines."""

    id: str
    sync_token: str
    doc_number: str | None
    total: Decimal | None
    lines: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class QboCustomer:
    id: str
    sync_token: str
    display_name: str


def _json(body: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    loaded = json.loads(body, parse_float=Decimal) if isinstance(body, bytes | str) else body
    if not isinstance(loaded, Mapping):
        raise PayloadInvalid("QuickBooks answered with something that is not a JSON object.")
    return loaded


def _amount(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    # A float from ``response.json()`` goes through its shortest text, never arithmetic.
    return Decimal(str(value)) if isinstance(value, float | int | str) else value


def read_invoice_response(body: bytes | str | Mapping[str, Any]) -> QboInvoice:
    """``Invoice.Id``, ``SyncToken`` (a string, pitfall 14), ``DocNumber``, ``TotalAmt`` and
    the lines, without the ``SubTotalLineDetail`` line QuickBooks appends (Q38)."""
    invoice = _json(body).get("Invoice")
    if not isinstance(invoice, Mapping) or not invoice.get("Id"):
        raise PayloadInvalid("QuickBooks' answer holds no Invoice with an Id.")
    lines = tuple(
        line
        for line in invoice.get("Line") or []
        if isinstance(line, Mapping) and line.get("DetailType") != "SubTotalLineDetail"
    )
    return QboInvoice(
        id=str(invoice["Id"]),
        sync_token=str(invoice.get("SyncToken", "")),
        doc_number=invoice.get("DocNumber"),
        total=_amount(invoice.get("TotalAmt")),
        lines=lines,
    )


def read_customer_response(body: bytes | str | Mapping[str, Any]) -> QboCustomer:
    customer = _json(body).get("Customer")
    if not isinstance(customer, Mapping) or not customer.get("Id"):
        raise PayloadInvalid("QuickBooks' answer holds no Customer with an Id.")
    return QboCustomer(
        id=str(customer["Id"]),
        sync_token=str(customer.get("SyncToken", "")),
        display_name=str(customer.get("DisplayName", "")),
    )


def read_customer_query(body: bytes | str | Mapping[str, Any]) -> list[QboCustomer]:
    """The customers of a ``customer_query`` answer (``QueryResponse.Customer``; none → [])."""
    found = (_json(body).get("QueryResponse") or {}).get("Customer") or []
    return [
        QboCustomer(
            id=str(row["Id"]),
            sync_token=str(row.get("SyncToken", "")),
            display_name=str(row.get("DisplayName", "")),
        )
        for row in found
        if isinstance(row, Mapping) and row.get("Id")
    ]
