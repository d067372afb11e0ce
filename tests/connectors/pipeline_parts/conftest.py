"""Fixtures of the pipeline's connector-side parts: pure functions, no database, no sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.canonical import Invoice, Load
from connectors.revenova.normalization import RevenovaMapper
from connectors.revenova.replica import RevenovaReplicaParser
from connectors.sdk.interfaces import ReplicaRecord

ROOT = Path(__file__).resolve().parents[3]
REVENOVA = ROOT / "connectors" / "revenova" / "fixtures"
#: Byte-exact copies of the shared provider fixtures these tests read (signatures cover the bytes).
DATA = Path(__file__).resolve().parent / "data"


def fixture_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture
def invoice_xml() -> bytes:
    return (REVENOVA / "revenova_outbound_invoice.xml").read_bytes()


@pytest.fixture
def load_xml() -> bytes:
    return (REVENOVA / "revenova_outbound_load.xml").read_bytes()


@pytest.fixture
def invoice_records(invoice_xml: bytes) -> list[ReplicaRecord]:
    return RevenovaReplicaParser().parse(invoice_xml, content_type="text/xml")


@pytest.fixture
def load_record(load_xml: bytes) -> ReplicaRecord:
    (record,) = RevenovaReplicaParser().parse(load_xml, content_type="text/xml")
    return record


@pytest.fixture
def usd_invoice(invoice_records: list[ReplicaRecord], load_record: ReplicaRecord) -> Invoice:
    invoice = RevenovaMapper().to_canonical(
        invoice_records[0], related={load_record.external_id: load_record}
    )
    assert isinstance(invoice, Invoice)
    return invoice


@pytest.fixture
def cad_invoice(invoice_records: list[ReplicaRecord]) -> Invoice:
    invoice = RevenovaMapper().to_canonical(invoice_records[1])
    assert isinstance(invoice, Invoice)
    return invoice


@pytest.fixture
def load(load_record: ReplicaRecord) -> Load:
    loaded = RevenovaMapper().to_canonical(load_record)
    assert isinstance(loaded, Load)
    return loaded


#: The golden file's item mapping (fixtures/README.md: items 21-24 are tenant mapping data).
GOLDEN_MAPPING = {
    "items": {
        "line_haul": {"value": "21", "name": "Linehaul"},
        "fuel_surcharge": {"value": "22", "name": "Fuel Surcharge"},
        "accessorial:Lift Gate Delivery": {"value": "23", "name": "Accessorial - Lift Gate"},
        "accessorial:Detention": {"value": "24", "name": "Accessorial - Detention"},
    }
}
