"""Layer 2 for Revenova TMS: an Outbound Message → one replica record per notification.

Revenova is a Salesforce managed package (PROVIDERS.md R1-R2), so its pushes
are Salesforce Outbound Messages (R17, S12-S18), parsed by the hardened parser
every Salesforce-based source shares (``connectors.salesforce.outbound_messages``).
Each notification becomes a ``ReplicaRecord`` keyed by (object type from
``xsi:type``, never the id prefix: R16; the sObject ``Id``), versioned by
``LastModifiedDate`` (an older one never replaces a newer one) and carrying its
``Notification/Id`` so a re-sent message collapses onto the first (S16).

The gateway checks the sender before storing: ``message_organization_id(raw)``
(or ``parse_outbound_message(raw).organization_id``) against the connection's
org id with ``org_id_matches`` (S19-S21).
"""

from __future__ import annotations

from typing import Any

from connectors.errors import MessageMalformed
from connectors.salesforce.outbound_messages import (
    OutboundMessage,
    org_id_matches,
    parse_outbound_message,
)
from connectors.sdk.interfaces import ReplicaRecord

__all__ = [
    "RevenovaReplicaParser",
    "message_organization_id",
    "org_id_matches",
    "replica_records",
]


def replica_records(message: OutboundMessage) -> list[ReplicaRecord]:
    """One record per notification; ``data`` holds the fields as text (``None`` for nil)."""
    records = []
    for notification in message.notifications:
        data: dict[str, Any] = dict(notification.fields)
        external_id = data.get("Id")
        if not external_id:
            raise MessageMalformed(
                f"Notification {notification.notification_id} carries no sObject Id."
            )
        records.append(
            ReplicaRecord(
                object_type=notification.object_type,
                external_id=external_id,
                data=data,
                source_version=data.get("LastModifiedDate") or "",
                notification_id=notification.notification_id,
            )
        )
    return records


def message_organization_id(raw: bytes) -> str:
    """The sending org's id, for the gateway's sender check (refuses hostile XML first)."""
    return parse_outbound_message(raw).organization_id


class RevenovaReplicaParser:
    """The ``Parser`` of ``connectors.sdk.interfaces``: raw message bytes → replica records."""

    content_types = ("text/xml", "application/xml", "application/soap+xml")

    def parse(self, raw: bytes, *, content_type: str = "text/xml") -> list[ReplicaRecord]:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type and media_type not in self.content_types:
            raise MessageMalformed(f"An Outbound Message is XML; this one came as {media_type!r}.")
        return replica_records(parse_outbound_message(raw))
