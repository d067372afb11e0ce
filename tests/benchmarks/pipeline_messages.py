"""Outbound Messages for the pipeline benchmark, derived from the Revenova fixture.

Every notification is the fixture's first one (a USD invoice of 2,437.50 for
Great Lakes Packaging) with a distinct notification id, record id and invoice
number, so each becomes its own QuickBooks invoice. Record ids are not valid
18-character Salesforce ids (nothing requires it of a record); the org id is
the fixture's, which the benchmark's Revenova connections carry.
"""

from __future__ import annotations

import re
from pathlib import Path

FIXTURE = (
    Path(__file__).resolve().parents[2]
    / "connectors"
    / "revenova"
    / "fixtures"
    / "revenova_outbound_invoice.xml"
).read_text()

#: The fixture's org. This module stays free of Django: the load generator and the chaos
#: sender import it without setting Django up.
ORG_ID = "00D5e000000KqTzEAK"

_NOTIFICATION = re.compile(r"(\s*<Notification>.*?</Notification>)", re.DOTALL)
_TEMPLATE = _NOTIFICATION.findall(FIXTURE)[0]
_HEAD = FIXTURE[: FIXTURE.index(_TEMPLATE)]
_TAIL = FIXTURE[FIXTURE.rindex("</Notification>") + len("</Notification>") :]


def notification(key: str) -> str:
    """One notification whose ids and invoice number derive from ``key`` (≤ 18 characters)."""
    return (
        _TEMPLATE.replace("<Id>04l5e00000HcA1BAAV</Id>", f"<Id>N{key}</Id>")
        .replace("<sf:Id>a0M5e00000Lk3QaEAJ</sf:Id>", f"<sf:Id>R{key}</sf:Id>")
        .replace("<sf:Name>INV-104233</sf:Name>", f"<sf:Name>B{key}</sf:Name>")
    )


def message(keys: list[str]) -> bytes:
    """An Outbound Message with one notification per key."""
    return (_HEAD + "".join(notification(key) for key in keys) + _TAIL).encode()


def tenant_messages(run: str, tenant: int, invoices: int, per_message: int) -> list[bytes]:
    """``invoices`` invoices of one tenant in messages of ``per_message`` notifications."""
    keys = [f"{run}{tenant:02d}{n:06d}" for n in range(invoices)]
    return [message(keys[i : i + per_message]) for i in range(0, len(keys), per_message)]
