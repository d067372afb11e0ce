"""The demo tenant's pipeline: a Revenova → QuickBooks route, and a run of the sample messages.

``make up`` runs ``demo_setup`` (waits for the sandboxes' demo connections,
then creates the route); ``make demo`` runs ``demo_run``: it connects the
QuickBooks demo connection through the sandbox's consent page when nobody
has clicked Connect yet, issues the Revenova ingest URL, posts the sample
Outbound Messages to it over HTTP like Revenova would, and reports what
reached the QuickBooks sandbox.
"""

from __future__ import annotations

import re
from pathlib import Path

from connectors.models import Connection
from pipeline.models import Route
from pipeline.services.routes import route_create

DEMO_ROUTE = "Revenova invoices to QuickBooks (demo)"
DEMO_MAPPING = {
    "items": {
        "line_haul": {"value": "21", "name": "Linehaul"},
        "fuel_surcharge": {"value": "22", "name": "Fuel Surcharge"},
        "accessorial": {"value": "23", "name": "Accessorials"},
        "accessorial:Detention": {"value": "24", "name": "Detention"},
        "discount": {"value": "23", "name": "Accessorials"},
    },
    "tax_code": "TAX",
    "default_terms_id": "3",
}
SAMPLES = Path(__file__).resolve().parents[2] / "connectors" / "revenova" / "fixtures"


def sample_messages() -> list[Path]:
    """The recorded Revenova Outbound Messages (invoices, a load)."""
    return sorted(SAMPLES.glob("revenova_outbound_*.xml"))


_NOTIFICATION_ID = re.compile(rb"<Id>([A-Za-z0-9]{18})</Id>")
_RECORD_ID = re.compile(rb"<sf:Id>([A-Za-z0-9]{18})</sf:Id>")
_INVOICE_NAME = re.compile(rb"<sf:Name>(INV-[0-9]+)</sf:Name>")


def sample_for_run(raw: bytes, *, run: str) -> bytes:
    """The sample as new records of this run: fresh notification and record ids, invoice
    numbers suffixed with ``run`` (5 characters). Each ``make demo`` then books new invoices
    (the same message again would rightly collapse onto the first), for the same customers."""

    def new_id(match: re.Match) -> bytes:
        whole, value = match.group(0), match.group(1)
        # Salesforce ids differ in their last characters: keep those, change the middle.
        return whole.replace(value, value[:5] + run.encode() + value[10:])

    raw = _NOTIFICATION_ID.sub(new_id, raw)
    raw = _RECORD_ID.sub(new_id, raw)
    return _INVOICE_NAME.sub(
        lambda m: m.group(0).replace(m.group(1), m.group(1) + b"-" + run.encode()), raw
    )


def demo_connections() -> tuple[Connection | None, Connection | None]:
    source = Connection.objects.filter(connector="revenova", environment="local").first()
    target = Connection.objects.filter(connector="quickbooks", environment="local").first()
    return source, target


def demo_route_ensure() -> Route | None:
    """The demo route, once both demo connections exist; None while they don't."""
    source, target = demo_connections()
    if source is None or target is None:
        return None
    existing = Route.objects.select_related("source", "target").filter(name=DEMO_ROUTE).first()
    if existing is not None:
        return existing
    return route_create(name=DEMO_ROUTE, source=source, target=target, mapping=DEMO_MAPPING)
