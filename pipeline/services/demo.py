"""The demo tenant's pipeline: a Revenova → QuickBooks route, and a run of the sample messages.

``make up`` runs ``demo_setup`` (waits for the sandboxes' demo connections,
then creates the route); ``make demo`` runs ``demo_run``: it connects the
QuickBooks demo connection through the sandbox's consent page when nobody
has clicked Connect yet, issues the Revenova ingest URL, posts the sample
Outbound Messages to it over HTTP like Revenova would, and reports what
reached the QuickBooks sandbox.
"""

from __future__ import annotations

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
