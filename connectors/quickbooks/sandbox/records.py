"""Customer and Invoice writes of the QuickBooks sandbox, with the real service's checks.

Create and update are both ``POST /v3/company/{realm}/{entity}``; an update
carries ``Id`` and the current ``SyncToken`` (Q23). What is checked, with the
fault code the real service uses:

- Customer: ``DisplayName`` unique, case-insensitively (6240, Q39).
- Invoice: a ``CustomerRef`` to an existing customer (2020 when missing, 2500
  when unknown) and at least one ``Line`` (2020) (Q36); each
  ``SalesItemLineDetail`` line's ``ItemRef`` must exist (2500) and its
  ``Amount`` must equal ``Qty * UnitPrice`` (6070, every bad line reported);
  ``DocNumber`` at most 21 characters (Q37); a stale ``SyncToken`` on update is
  5010 (Q23). Amounts are Decimal, never float (PROVIDERS.md pitfall 13).

Not imitated: taxes (``TotalTax`` is always 0), multicurrency rules, discount
and group lines, customer updates, deletes and voids.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .bodies import qbo_error
from .company import Company, metadata_now

CENT = Decimal("0.01")
DOC_NUMBER_MAX = 21  # Q37
CURRENCY_NAMES = {"USD": "United States Dollar", "CAD": "Canadian Dollar"}
INVOICE_COMPUTED = {
    "Id",
    "SyncToken",
    "sparse",
    "domain",
    "MetaData",
    "TotalAmt",
    "Balance",
    "Line",
    "CustomerRef",
}


class QboFault(Exception):
    """A 400 ValidationFault holding one or more ``Error`` entries (Q32)."""

    def __init__(self, *errors: dict[str, Any]) -> None:
        super().__init__(errors[0]["Message"] if errors else "fault")
        self.errors = errors


def _required(name: str) -> dict[str, Any]:
    return qbo_error(
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {name} is missing in the request",
        "2020",
        name,
    )


def _invalid_reference(element: str) -> dict[str, Any]:
    return qbo_error("Invalid Reference Id", f"Invalid Reference Id : {element}", "2500", element)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal) -> str:
    """412.5 -> "412.5", 75.00 -> "75": how the 6070 detail quotes the supplied value."""
    text = format(number.normalize(), "f")
    return text


def _json_number(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


# --- customers ----------------------------------------------------------------------------


def customer_create(company: Company, body: dict[str, Any]) -> dict[str, Any]:
    if "Id" in body:
        raise QboFault(
            qbo_error(
                "Operation not supported",
                "The sandbox does not update customers; create a new one instead",
                "2010",
                "Id",
            )
        )
    name = body.get("DisplayName")
    if not isinstance(name, str) or not name.strip():
        raise QboFault(_required("DisplayName"))
    name = name.strip()
    key = name.casefold()
    if key in company.customer_names:
        raise QboFault(
            qbo_error(
                "Duplicate Name Exists Error",
                "The name supplied already exists. : Another customer, vendor or employee "
                f"is already using this name. Please use a different name. "
                f"(Id={company.customer_names[key]})",
                "6240",
                "",
            )
        )
    customer_id = str(company.next_customer_id)
    company.next_customer_id += 1
    currency = (body.get("CurrencyRef") or {}).get("value", "USD")
    customer = {
        **body,
        "Taxable": False,
        "Job": False,
        "BillWithParent": False,
        "Balance": 0,
        "BalanceWithJobs": 0,
        "CurrencyRef": {"value": currency, "name": CURRENCY_NAMES.get(currency, currency)},
        "PreferredDeliveryMethod": "None",
        "IsProject": False,
        "domain": "QBO",
        "sparse": False,
        "Id": customer_id,
        "SyncToken": "0",
        "MetaData": metadata_now(),
        "FullyQualifiedName": name,
        "DisplayName": name,
        "PrintOnCheckName": body.get("PrintOnCheckName", name),
        "Active": True,
    }
    company.customers[customer_id] = customer
    company.customer_names[key] = customer_id
    return customer


# --- invoices ------------------------------------------------------------------------------


def _lines(company: Company, lines: Any) -> tuple[list[dict[str, Any]], Decimal]:
    """The stored lines (Id, LineNum, item details filled in) and their total."""
    if not isinstance(lines, list) or not lines:
        raise QboFault(_required("Line"))
    errors: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    total = Decimal(0)
    number = 0
    for line in lines:
        if not isinstance(line, dict):
            raise QboFault(qbo_error("Request has invalid or unsupported property", "Line", "2010"))
        detail_type = line.get("DetailType")
        if detail_type == "SubTotalLineDetail":
            continue  # computed by the service (Q38); a client echoing one back is ignored
        amount = _decimal(line.get("Amount"))
        if detail_type == "SalesItemLineDetail":
            if amount is None:
                errors.append(_required("Line.Amount"))
                continue
            detail = line.get("SalesItemLineDetail")
            if not isinstance(detail, dict):
                errors.append(_required("Line.SalesItemLineDetail"))
                continue
            item_id = str((detail.get("ItemRef") or {}).get("value", ""))
            item = company.items.get(item_id)
            if item is None:
                errors.append(_invalid_reference("Line.SalesItemLineDetail.ItemRef"))
                continue
            qty, price = _decimal(detail.get("Qty")), _decimal(detail.get("UnitPrice"))
            if qty is not None and price is not None:
                expected = (qty * price).quantize(CENT, rounding=ROUND_HALF_UP)
                if expected != amount.quantize(CENT, rounding=ROUND_HALF_UP):
                    errors.append(
                        qbo_error(
                            "Amount calculation incorrect in the request.",
                            "Amount is not equal to UnitPrice * Qty. "
                            f"Supplied value:{_plain(amount)}",
                            "6070",
                            "Line.Amount",
                        )
                    )
                    continue
            detail = {
                **detail,
                "ItemRef": {"value": item_id, "name": item["Name"]},
                "ItemAccountRef": detail.get("ItemAccountRef", item["IncomeAccountRef"]),
                "TaxCodeRef": detail.get("TaxCodeRef", {"value": "NON"}),
            }
            line = {**line, "SalesItemLineDetail": detail}
        elif detail_type == "DescriptionOnly":
            amount = amount or Decimal(0)
        else:
            errors.append(
                qbo_error(
                    "Request has invalid or unsupported property",
                    f"Property Name:DetailType specified is unsupported or invalid: {detail_type}",
                    "2010",
                    "Line.DetailType",
                )
            )
            continue
        number += 1
        total += amount
        out.append({"Id": str(number), "LineNum": line.get("LineNum", number), **line})
    if errors:
        raise QboFault(*errors)
    out.append(
        {
            "Amount": _json_number(total),
            "DetailType": "SubTotalLineDetail",
            "SubTotalLineDetail": {},
        }
    )
    return out, total


def _customer_ref(company: Company, source: dict[str, Any]) -> dict[str, Any]:
    ref = source.get("CustomerRef")
    if not isinstance(ref, dict) or not ref.get("value"):
        raise QboFault(_required("CustomerRef"))
    customer = company.customers.get(str(ref["value"]))
    if customer is None:
        raise QboFault(_invalid_reference("CustomerRef"))
    return {"value": customer["Id"], "name": customer["DisplayName"]}


def _compose(company: Company, source: dict[str, Any]) -> dict[str, Any]:
    """The computed part of an invoice from the client's fields (create or update)."""
    customer_ref = _customer_ref(company, source)
    lines, total = _lines(company, source.get("Line"))
    doc_number = source.get("DocNumber")
    if doc_number is not None and (
        not isinstance(doc_number, str) or len(doc_number) > DOC_NUMBER_MAX
    ):
        raise QboFault(
            qbo_error(
                "String length is either shorter or longer than supported by specification",
                f"String length specified does not match the supported length. "
                f"Min:0 Max:{DOC_NUMBER_MAX} supplied:{len(str(doc_number))}",
                "2050",
                "DocNumber",
            )
        )
    amount = _json_number(total)
    return {"CustomerRef": customer_ref, "Line": lines, "TotalAmt": amount, "Balance": amount}


def _dates(company: Company, source: dict[str, Any]) -> dict[str, str]:
    txn_date = source.get("TxnDate") or date.today().isoformat()
    due = source.get("DueDate")
    if not due:
        term = company.terms.get(str((source.get("SalesTermRef") or {}).get("value", "")))
        days = term["DueDays"] if term else 30  # the company's default terms [inferred]
        try:
            due = (date.fromisoformat(txn_date) + timedelta(days=days)).isoformat()
        except ValueError:
            raise QboFault(
                qbo_error(
                    "Invalid date", f"TxnDate {txn_date!r} is not YYYY-MM-DD", "2010", "TxnDate"
                )
            ) from None
    return {"TxnDate": txn_date, "DueDate": due}


def invoice_create(company: Company, body: dict[str, Any]) -> dict[str, Any]:
    computed = _compose(company, body)
    invoice_id = str(company.next_invoice_id)
    doc_number = body.get("DocNumber")
    if doc_number is None:
        doc_number = str(company.next_doc_number)  # auto-numbered when omitted (Q37)
        company.next_doc_number += 1
    currency = (body.get("CurrencyRef") or {}).get("value", "USD")
    meta = metadata_now()
    meta["LastModifiedByRef"] = {"value": company.user_id}
    invoice = {
        "AllowIPNPayment": False,
        "AllowOnlinePayment": False,
        "AllowOnlineCreditCardPayment": False,
        "AllowOnlineACHPayment": False,
        "domain": "QBO",
        "sparse": False,
        "Id": invoice_id,
        "SyncToken": "0",
        "MetaData": meta,
        "CustomField": [],
        "DocNumber": doc_number,
        "CurrencyRef": {"value": currency, "name": CURRENCY_NAMES.get(currency, currency)},
        "LinkedTxn": [],
        "TxnTaxDetail": {"TotalTax": 0},
        "FreeFormAddress": False,
        "ApplyTaxAfterDiscount": False,
        "PrintStatus": "NotSet",
        "EmailStatus": "NotSet",
        "Deposit": 0,
        **{k: v for k, v in body.items() if k not in INVOICE_COMPUTED},
        **_dates(company, body),
        **computed,
    }
    invoice["DocNumber"] = doc_number
    company.next_invoice_id += 1
    company.invoices[invoice_id] = invoice
    return invoice


def invoice_update(company: Company, body: dict[str, Any]) -> dict[str, Any]:
    """A full update, or a sparse one with ``"sparse": true`` (only the given fields change)."""
    invoice_id = str(body["Id"])
    existing = company.invoices.get(invoice_id)
    if existing is None:
        raise QboFault(
            qbo_error(
                "Object Not Found",
                f"Object Not Found : Something you're trying to use has been made inactive. "
                f"Check the fields with accounts, customers, items, vendors or employees. "
                f"(Invoice Id={invoice_id})",
                "610",
                "",
            )
        )
    sync_token = body.get("SyncToken")
    if sync_token is None:
        raise QboFault(_required("SyncToken"))
    if str(sync_token) != existing["SyncToken"]:
        raise QboFault(  # fixtures/qbo_fault_stale_object_400.json (Q23)
            qbo_error(
                "Stale Object Error",
                "Stale Object Error : You and API API were working on this at the same time. "
                "API API finished before you did, so your work was not saved.",
                "5010",
                "",
            )
        )
    changes = {k: v for k, v in body.items() if k not in {"Id", "SyncToken", "sparse", "MetaData"}}
    if body.get("sparse") is True:
        source = {**existing, **changes}
    else:
        keep = {"CustomerRef": existing["CustomerRef"], "Line": existing["Line"]}
        source = {**keep, **changes}
    computed = _compose(company, source)
    updated = {
        **(existing if body.get("sparse") is True else _frame(existing)),
        **{k: v for k, v in changes.items() if k not in INVOICE_COMPUTED},
        **computed,
        "SyncToken": str(int(existing["SyncToken"]) + 1),
        "MetaData": {**existing["MetaData"], "LastUpdatedTime": metadata_now()["LastUpdatedTime"]},
    }
    company.invoices[invoice_id] = updated
    return updated


def _frame(existing: dict[str, Any]) -> dict[str, Any]:
    """What a full update keeps of the old invoice: identity and service-owned fields."""
    kept = (
        "AllowIPNPayment",
        "AllowOnlinePayment",
        "AllowOnlineCreditCardPayment",
        "AllowOnlineACHPayment",
        "domain",
        "sparse",
        "Id",
        "CustomField",
        "DocNumber",
        "TxnDate",
        "DueDate",
        "CurrencyRef",
        "LinkedTxn",
        "TxnTaxDetail",
        "FreeFormAddress",
        "ApplyTaxAfterDiscount",
        "PrintStatus",
        "EmailStatus",
        "Deposit",
    )
    return {k: existing[k] for k in kept if k in existing}
