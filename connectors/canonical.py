"""Canonical records: the language connectors speak between a source and a target.

A mapper (Layer 3) returns one of these; an outbound builder (Layer 4) takes
one; the pipeline stores them as JSON (``record.to_json()``, read back with
``canonical_from_json``). Each type carries ``record_type`` and a
``schema_version`` (``INVOICE_SCHEMA_VERSION``, ...): a stored record says
which shape it was written in, and a change of shape bumps the constant.

Money is ``Decimal`` everywhere (PROVIDERS.md pitfall 13): amounts are held
at two places, rounded half-up once, on the way in; a ``float`` is refused
outright (SOAP ``xsd:double`` text goes in as text: ``Decimal("2437.5")``).
JSON carries every Decimal as a string, so a round trip is exact. Dates are
``date``; currencies are ISO 4217 codes (three upper-case letters).

Why pydantic v2 and not frozen dataclasses: the records are validated on the
way in from several sources (a mapper, the pipeline's stored JSON, a test)
and must say *which* field failed and why — pydantic reports every failure
with its location (``lines.2.amount``) in one pass, and gives an exact JSON
round trip; dataclasses would need that machinery written by hand. The
models are frozen, refuse unknown fields, and refuse floats for money.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from connectors.errors import RecordInvalid

INVOICE_SCHEMA_VERSION = 1
CUSTOMER_SCHEMA_VERSION = 1
LOAD_SCHEMA_VERSION = 1
CARRIER_BILL_SCHEMA_VERSION = 1

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: Line kinds an invoice or a bill may hold; discounts are negative, everything else is not.
LINE_KINDS = ("line_haul", "fuel_surcharge", "accessorial", "discount", "tax")
LineKind = Literal["line_haul", "fuel_surcharge", "accessorial", "discount", "tax"]

_CURRENCY = re.compile(r"[A-Z]{3}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def money(value: Any) -> Decimal:
    """A Decimal at two places, ROUND_HALF_UP; text, int or Decimal in, never float."""
    return decimal_of(value).quantize(CENT, rounding=ROUND_HALF_UP)


def decimal_of(value: Any) -> Decimal:
    """``Decimal`` from text, int or Decimal; refuses float, bool, NaN and infinities."""
    if isinstance(value, bool | float):
        raise ValueError(f"{value!r} is a {type(value).__name__}; give a Decimal or its text")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise ValueError(f"{value!r} is not a number")
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _date_of(value: Any) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")


def _currency_of(value: Any) -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (three capital letters)")
    return value


def _email_of(value: Any) -> str:
    if not isinstance(value, str) or not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _plain(number: Decimal) -> str:
    return format(number, "f")


_DECIMAL_JSON = PlainSerializer(_plain, return_type=str, when_used="json")
_DATE_JSON = PlainSerializer(date.isoformat, return_type=str, when_used="json")

#: An amount of money: two places, half-up, a string in JSON.
Money = Annotated[Decimal, BeforeValidator(money), _DECIMAL_JSON]
#: A quantity or a unit price: exact, any number of places, a string in JSON.
Number = Annotated[Decimal, BeforeValidator(decimal_of), _DECIMAL_JSON]
Currency = Annotated[str, BeforeValidator(_currency_of)]
Day = Annotated[date, BeforeValidator(_date_of), _DATE_JSON]
Email = Annotated[str, BeforeValidator(_email_of)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
SourceId = Annotated[str, Field(min_length=1, max_length=255)]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    def to_json(self) -> str:
        """Exact JSON: Decimals as strings, dates as ``YYYY-MM-DD``."""
        return self.model_dump_json()

    def to_data(self) -> dict[str, Any]:
        """The JSON-able dict (what a JSON column stores)."""
        return self.model_dump(mode="json")


class Address(_Record):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


class CustomerRef(_Record):
    """The customer an invoice bills, as the source knows it (the target's id is resolved later)."""

    source_id: SourceId
    display_name: Annotated[str, Field(min_length=1, max_length=500)]
    email: Email | None = None
    billing_address: Address | None = None


class VendorRef(_Record):
    """The carrier (vendor) a bill pays."""

    source_id: SourceId
    display_name: Annotated[str, Field(min_length=1, max_length=500)] | None = None


class InvoiceLine(_Record):
    """One charge. ``amount`` = ``quantity`` x ``unit_price`` rounded half-up to cents.

    ``code`` is the source's own name for the charge (an accessorial's name,
    e.g. "Detention"), so a route can book it to its own target item.
    Discounts are negative (so lines always sum to the total); other kinds are not.
    """

    kind: LineKind
    description: Text
    quantity: Number = Decimal("1")
    unit_price: Number
    amount: Money
    tax_code_hint: str | None = None
    code: str | None = None

    @model_validator(mode="after")
    def _amount_is_quantity_times_price(self) -> InvoiceLine:
        expected = (self.quantity * self.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
        if self.amount != expected:
            raise ValueError(
                f"amount {_plain(self.amount)} is not quantity {_plain(self.quantity)} x "
                f"unit price {_plain(self.unit_price)} (= {_plain(expected)})"
            )
        if self.kind == "discount" and self.amount > 0:
            raise ValueError(f"a discount is negative; got {_plain(self.amount)}")
        if self.kind != "discount" and self.amount < 0:
            raise ValueError(f"a {self.kind} line cannot be negative; got {_plain(self.amount)}")
        return self

    @classmethod
    def single(cls, kind: str, description: str, amount: Any, **extra: Any) -> InvoiceLine:
        """A line of quantity 1 whose unit price is its amount (how Revenova's export books
        charges, PROVIDERS.md §4: it cannot trip QuickBooks' 6070)."""
        value = money(amount)
        return cls(kind=kind, description=description, unit_price=value, amount=value, **extra)


def _lines_sum(lines: Iterable[InvoiceLine]) -> Decimal:
    return sum((line.amount for line in lines), ZERO)


class _Sourced(_Record):
    #: The source system's label ("Revenova"), the source object ("rtms__CustomerInvoice__c"),
    #: its id there and its version (e.g. LastModifiedDate): newer versions replace older ones.
    source_system: Annotated[str, Field(min_length=1, max_length=80)]
    source_object: Annotated[str, Field(min_length=1, max_length=120)]
    source_id: SourceId
    source_version: Annotated[str, Field(min_length=1, max_length=80)]


class Invoice(_Sourced):
    """A customer invoice: header, customer, typed lines, a total the lines sum to."""

    record_type: Literal["invoice"] = "invoice"
    schema_version: Literal[1] = INVOICE_SCHEMA_VERSION
    number: Annotated[str, Field(min_length=1, max_length=80)]
    customer: CustomerRef
    currency: Currency
    invoice_date: Day
    due_date: Day | None = None
    terms_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    memo: Annotated[str, Field(max_length=4000)] | None = None
    load_number: Annotated[str, Field(max_length=80)] | None = None
    lines: Annotated[tuple[InvoiceLine, ...], Field(min_length=1)]
    total: Money

    @model_validator(mode="after")
    def _consistent(self) -> Invoice:
        if self.due_date is not None and self.due_date < self.invoice_date:
            raise ValueError(f"due date {self.due_date} is before invoice date {self.invoice_date}")
        summed = _lines_sum(self.lines)
        if summed != self.total:
            raise ValueError(f"lines sum to {_plain(summed)} but the total is {_plain(self.total)}")
        return self

    @property
    def tax_total(self) -> Decimal:
        return _lines_sum(line for line in self.lines if line.kind == "tax")


class Customer(_Sourced):
    """A customer (a QuickBooks Customer, a Salesforce Account billed by an invoice)."""

    record_type: Literal["customer"] = "customer"
    schema_version: Literal[1] = CUSTOMER_SCHEMA_VERSION
    display_name: Annotated[str, Field(min_length=1, max_length=500)]
    company_name: Annotated[str, Field(max_length=500)] | None = None
    email: Email | None = None
    billing_address: Address | None = None
    currency: Currency | None = None

    @classmethod
    def from_ref(
        cls,
        ref: CustomerRef,
        *,
        source_system: str,
        source_object: str = "Account",
        source_version: str = "ref",
        currency: str | None = None,
    ) -> Customer:
        """The customer an invoice refers to, to create it in a target that lacks it."""
        return cls(
            source_system=source_system,
            source_object=source_object,
            source_id=ref.source_id,
            source_version=source_version,
            display_name=ref.display_name,
            company_name=ref.display_name,
            email=ref.email,
            billing_address=ref.billing_address,
            currency=currency,
        )


class Load(_Sourced):
    """A shipment (Revenova ``rtms__Load__c``, PROVIDERS.md R13)."""

    record_type: Literal["load"] = "load"
    schema_version: Literal[1] = LOAD_SCHEMA_VERSION
    number: Annotated[str, Field(min_length=1, max_length=80)]
    status: str | None = None
    mode: str | None = None
    bill_to_id: str | None = None
    carrier_id: str | None = None
    order_number: str | None = None
    po_number: str | None = None
    pro_number: str | None = None
    bill_of_lading_number: str | None = None
    origin: str | None = None
    destination: str | None = None
    city_lane: str | None = None
    ship_from_address: str | None = None
    ship_to_address: str | None = None
    order_date: Day | None = None
    expected_ship_date: Day | None = None
    expected_delivery_date: Day | None = None
    distance_miles: Number | None = None
    total_weight: Number | None = None
    weight_units: str | None = None
    currency: Currency | None = None
    customer_invoice_total: Money | None = None
    carrier_invoice_total: Money | None = None
    hazardous_materials: bool | None = None
    pod_received: bool | None = None


class CarrierBill(_Sourced):
    """What a carrier bills for a load (Revenova ``rtms__CarrierInvoice__c``, R11): a
    QuickBooks Bill for a Vendor (R10, Q40)."""

    record_type: Literal["carrier_bill"] = "carrier_bill"
    schema_version: Literal[1] = CARRIER_BILL_SCHEMA_VERSION
    number: Annotated[str, Field(min_length=1, max_length=80)]
    vendor: VendorRef
    load_id: str | None = None
    currency: Currency
    bill_date: Day
    due_date: Day | None = None
    lines: Annotated[tuple[InvoiceLine, ...], Field(min_length=1)]
    total: Money

    @model_validator(mode="after")
    def _consistent(self) -> CarrierBill:
        if self.due_date is not None and self.due_date < self.bill_date:
            raise ValueError(f"due date {self.due_date} is before bill date {self.bill_date}")
        summed = _lines_sum(self.lines)
        if summed != self.total:
            raise ValueError(f"lines sum to {_plain(summed)} but the total is {_plain(self.total)}")
        return self


CanonicalRecord = Invoice | Customer | Load | CarrierBill
RecordT = TypeVar("RecordT", bound=_Record)
_ANY_RECORD: TypeAdapter[CanonicalRecord] = TypeAdapter(
    Annotated[CanonicalRecord, Field(discriminator="record_type")]
)


def readable_errors(exc: ValidationError) -> dict[str, list[str]]:
    """pydantic's errors as ``{"lines.2.amount": ["why"]}``; ``"record"`` for whole-record rules."""
    fields: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "record"
        message = error["msg"].removeprefix("Value error, ")
        fields.setdefault(where, []).append(message)
    return fields


def _invalid(model: str, exc: ValidationError) -> RecordInvalid:
    fields = readable_errors(exc)
    summary = "; ".join(f"{where}: {', '.join(reasons)}" for where, reasons in fields.items())
    return RecordInvalid(f"Invalid {model}: {summary}", fields=fields)


def canonical_build(model: type[RecordT], **values: Any) -> RecordT:
    """``model(**values)``, with pydantic's errors turned into one readable ``RecordInvalid``."""
    try:
        return model(**values)
    except ValidationError as exc:
        raise _invalid(model.__name__, exc) from None


def canonical_from_json(data: str | bytes | dict[str, Any]) -> CanonicalRecord:
    """A stored record back, typed by its ``record_type``; ``RecordInvalid`` if it is not one."""
    try:
        if isinstance(data, dict):
            return _ANY_RECORD.validate_python(data)
        return _ANY_RECORD.validate_json(data)
    except ValidationError as exc:
        raise _invalid("canonical record", exc) from None


def dumps_exact(value: Any) -> str:
    """JSON text in which every Decimal is a JSON number written exactly (``1850.00``).

    For target payloads built from canonical records (``OutboundRequest.body``):
    ``json.dumps`` cannot write a Decimal, and a float would not be exact.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} cannot be written as JSON")
        return _plain(value)
    if isinstance(value, dict):
        items = (f"{json.dumps(str(key))}:{dumps_exact(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps_exact(item) for item in value) + "]"
    if isinstance(value, float):
        raise TypeError("a float in a payload: build money from Decimal")
    return json.dumps(value, ensure_ascii=False)
