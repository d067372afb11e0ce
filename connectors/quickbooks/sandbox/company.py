"""One QuickBooks company (a realm) held in memory: seed data, records, requestids.

Each approved authorization creates a company for its client, or reuses the
client's company, as a real user reconnecting the same QuickBooks file would.
The first company gets the fixtures' realm id ``9341453908059321``, so demos and
recorded fixtures line up; Customer Ids start at 58 and Invoice Ids at 1045
for the same reason (fixtures/README.md).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .bodies import COMPANY_TZ

FIXTURE_REALM = "9341453908059321"


def metadata_now() -> dict[str, Any]:
    stamp = datetime.now(COMPANY_TZ).isoformat(timespec="seconds")
    return {"CreateTime": stamp, "LastUpdatedTime": stamp}


def _item(item_id: str, name: str, account_id: str, account_name: str) -> dict[str, Any]:
    return {
        "Name": name,
        "Active": True,
        "FullyQualifiedName": name,
        "Taxable": False,
        "UnitPrice": 0,
        "Type": "Service",
        "IncomeAccountRef": {"value": account_id, "name": account_name},
        "TrackQtyOnHand": False,
        "domain": "QBO",
        "sparse": False,
        "Id": item_id,
        "SyncToken": "0",
        "MetaData": metadata_now(),
    }


def seed_items() -> dict[str, dict[str, Any]]:
    """Items 21-24 of fixtures/qbo_invoice_create_request.json, with the income
    accounts the fixture's response shows as ``ItemAccountRef``."""
    return {
        "21": _item("21", "Linehaul", "79", "Freight Revenue"),
        "22": _item("22", "Fuel Surcharge", "80", "Fuel Surcharge Revenue"),
        "23": _item("23", "Accessorial - Lift Gate", "81", "Accessorial Revenue"),
        "24": _item("24", "Accessorial - Detention", "81", "Accessorial Revenue"),
    }


def seed_tax_codes() -> dict[str, dict[str, Any]]:
    return {
        "TAX": {"Id": "TAX", "Name": "TAX", "Description": "Taxable", "Taxable": True},
        "NON": {"Id": "NON", "Name": "NON", "Description": "Non-Taxable", "Taxable": False},
    }


def seed_terms() -> dict[str, dict[str, Any]]:
    return {
        "1": {"Id": "1", "Name": "Due on receipt", "DueDays": 0, "Active": True},
        "3": {"Id": "3", "Name": "Net 30", "DueDays": 30, "Active": True},
    }


@dataclass(slots=True)
class RequestRecord:
    """The first answer to a ``requestid``: replayed byte for byte on a repeat (Q22)."""

    method: str
    path: str
    status: int
    body: bytes
    entity_id: str | None
    replays: int = 0


@dataclass(slots=True)
class Company:
    realm_id: str
    client_id: str
    name: str
    created_at: float
    user_id: str = field(default_factory=lambda: str(9130356647788000 + secrets.randbelow(1000)))
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    customer_names: dict[str, str] = field(default_factory=dict)  # casefolded name -> Id
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=seed_items)
    tax_codes: dict[str, dict[str, Any]] = field(default_factory=seed_tax_codes)
    terms: dict[str, dict[str, Any]] = field(default_factory=seed_terms)
    requestids: dict[str, RequestRecord] = field(default_factory=dict)
    next_customer_id: int = 58
    next_invoice_id: int = 1045
    next_doc_number: int = 1001

    def table(self, entity: str) -> dict[str, dict[str, Any]] | None:
        """The records of a queryable entity, by its canonical name."""
        return {
            "Customer": self.customers,
            "Invoice": self.invoices,
            "Item": self.items,
            "TaxCode": self.tax_codes,
            "Term": self.terms,
        }.get(entity)

    def company_info(self) -> dict[str, Any]:
        return {
            "CompanyName": self.name,
            "LegalName": self.name,
            "CompanyAddr": {
                "Id": "1",
                "Line1": "123 Sierra Way",
                "City": "San Pablo",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "87999",
            },
            "Country": "US",
            "SupportedLanguages": "en",
            "FiscalYearStartMonth": "January",
            "domain": "QBO",
            "sparse": False,
            "Id": "1",
            "SyncToken": "0",
            "MetaData": {"CreateTime": "2025-01-06T13:12:45-08:00"},
        }

    def state(self) -> dict[str, Any]:
        return {
            "realm_id": self.realm_id,
            "client_id": self.client_id,
            "name": self.name,
            "customers": [
                {"Id": c["Id"], "DisplayName": c["DisplayName"], "SyncToken": c["SyncToken"]}
                for c in self.customers.values()
            ],
            "invoices": [
                {
                    "Id": inv["Id"],
                    "DocNumber": inv["DocNumber"],
                    "CustomerRef": inv["CustomerRef"],
                    "TotalAmt": inv["TotalAmt"],
                    "SyncToken": inv["SyncToken"],
                    "Line": inv["Line"],
                }
                for inv in self.invoices.values()
            ],
            "items": sorted(self.items),
            "requestids": {
                rid: {
                    "method": rec.method,
                    "path": rec.path,
                    "status": rec.status,
                    "Id": rec.entity_id,
                    "replays": rec.replays,
                }
                for rid, rec in self.requestids.items()
            },
        }


def new_realm_id(taken: set[str]) -> str:
    """The fixtures' realm first, then random 16-digit ids like Intuit's."""
    if FIXTURE_REALM not in taken:
        return FIXTURE_REALM
    while True:
        realm = str(9_000_000_000_000_000 + secrets.randbelow(10**15 * 9 // 10))
        if realm not in taken:
            return realm
