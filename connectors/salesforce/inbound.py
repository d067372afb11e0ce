"""L1 for every Salesforce-based source: Outbound Messages, recognised and acknowledged.

Outbound Messages are not signed (S19): the sender is recognised by the
``OrganizationId`` it carries, which must be the connection's org (15- or
18-character forms, S20-S21). The hook URL's secret token is the other half.
The acknowledgement is the exact ``notificationsResponse`` with ``Ack`` true
(S15); a refusal is a SOAP fault, which Salesforce retries (S16-S17).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from connectors.errors import SenderRefused
from connectors.salesforce.outbound_messages import (
    ack_response,
    fault_response,
    org_id_matches,
    parse_outbound_message,
)
from connectors.sdk.interfaces import InboundAccepted

SOAP_TYPE = "text/xml"


class OutboundMessageInbound:
    """The ``Inbound`` of ``connectors.sdk.interfaces`` for Outbound Messages."""

    content_types: ClassVar[tuple[str, ...]] = ("text/xml", "application/soap+xml")
    #: Unsigned (S19): recognised by the org id, no secret to verify against.
    verifies_signatures: ClassVar[bool] = False

    def accept(
        self,
        *,
        raw: bytes,
        headers: Mapping[str, str],
        metadata: Mapping[str, Any],
        secrets: list[str],
    ) -> InboundAccepted:
        message = parse_outbound_message(raw)
        expected = str(metadata.get("org_id") or "")
        if not org_id_matches(message.organization_id, expected):
            raise SenderRefused(
                f"The message comes from Salesforce org {message.organization_id}, not from "
                f"this connection's org {expected or '(none recorded)'}."
            )
        return InboundAccepted(
            delivery_ids=tuple(n.notification_id for n in message.notifications),
            ack_body=ack_response(),
            ack_content_type=f"{SOAP_TYPE}; charset=utf-8",
        )

    def refusal(self, *, message: str, status: int) -> tuple[bytes, str]:
        code = "soapenv:Server" if status >= 500 else "soapenv:Client"
        return fault_response(message, code=code), f"{SOAP_TYPE}; charset=utf-8"
