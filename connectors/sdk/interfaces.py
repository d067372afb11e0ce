"""The interfaces a connector implements to take part in the sync pipeline.

Defined here with the SDK so connectors can be written against them; the
pipeline (Layers 2-5) calls them. A connector sets the matching class
attribute (``parser``, ``mapper``, ``outbound``, ``webhooks``) to an object
that has these methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ReplicaRecord:
    """One record as the source holds it (Layer 2), keyed by (object type, external id)."""

    object_type: str
    external_id: str
    data: dict[str, Any]
    #: The source's version of the record (e.g. LastModifiedDate); newer replaces older.
    source_version: str = ""
    #: The delivery's own id (e.g. an Outbound Message Notification/Id), for de-duplication.
    notification_id: str = ""


@dataclass(frozen=True)
class OutboundRequest:
    """What Layer 5 sends: method, path, body and the idempotency key the provider honours."""

    method: str
    path: str
    body: dict[str, Any]
    idempotency_key: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RoutedEvent:
    """One event of a webhook delivery, for the account it belongs to."""

    account_id: str
    object_type: str
    external_id: str
    operation: str
    data: dict[str, Any] = field(default_factory=dict)


class Parser(Protocol):
    """Layer 2: a raw inbound message → replica records."""

    def parse(self, raw: bytes, *, content_type: str) -> list[ReplicaRecord]: ...


class Mapper(Protocol):
    """Layer 3: a replica record → a canonical record (typed, versioned)."""

    def to_canonical(self, record: ReplicaRecord) -> Any: ...


class Outbound(Protocol):
    """Layer 4: a canonical record → the target's payload, validated, references resolved."""

    def build(
        self,
        canonical: Any,
        *,
        mapping: Mapping[str, Any],
        refs: Mapping[str, str],
        tenant: str,
    ) -> OutboundRequest:
        """``tenant`` (the schema) is part of the idempotency key: one per tenant, record,
        source version and operation."""
        ...


class Webhooks(Protocol):
    """Inbound webhooks: verify the sender, then say which accounts and records they touch."""

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secrets: list[str]) -> bool: ...

    def route(self, payload: Any) -> list[RoutedEvent]: ...


@dataclass(frozen=True)
class InboundAccepted:
    """A message the sender may be told was received (after the gateway stores it)."""

    #: The sender's own delivery ids (e.g. Outbound Message notification ids); a message
    #: whose ids were all seen before collapses onto the first.
    delivery_ids: tuple[str, ...]
    #: What to answer once stored, exactly as the sender expects it.
    ack_body: bytes
    ack_content_type: str


class Inbound(Protocol):
    """L1: recognise the sender of a raw message before anything is stored.

    ``accept`` raises a domain error with status 403 when the message is not
    from the connection's system (wrong org id, bad signature) and 400 when
    it is malformed or hostile; ``refusal`` renders such an error the way the
    sender understands (a SOAP fault for Salesforce).
    """

    content_types: tuple[str, ...]
    #: True for senders that sign: the gateway then passes the signing secrets sealed with
    #: the connection's credentials (``webhook_secrets``) as ``secrets``.
    verifies_signatures: bool

    def accept(
        self,
        *,
        raw: bytes,
        headers: Mapping[str, str],
        metadata: Mapping[str, Any],
        secrets: list[str],
    ) -> InboundAccepted: ...

    def refusal(self, *, message: str, status: int) -> tuple[bytes, str]: ...


@dataclass(frozen=True)
class DeliveryTarget:
    """Where a record landed at the target: its id there, a human reference, its version."""

    target_id: str
    reference: str = ""
    version: str = ""


class CrossReferences(Protocol):
    """The engine's memory of which target id a source id became (per target connection)."""

    def get(self, object_type: str, source_id: str) -> str | None: ...

    def put(self, object_type: str, source_id: str, target_id: str) -> None: ...

    def forget(self, object_type: str, source_id: str) -> None:
        """The target no longer knows that id (deleted there): look it up again next time."""
        ...


class Deliverer(Protocol):
    """L5: bring one canonical record to the target through the authenticated client.

    Creates carry an idempotency key the target honours, so calling this twice
    for the same record version changes nothing the second time. Failures
    are the client's domain errors (``RateLimited``, ``Transient``,
    ``NeedsReauth``, ``Permanent``); the engine decides about retries.
    """

    def deliver(
        self,
        client: Any,
        canonical: Any,
        *,
        mapping: Mapping[str, Any],
        tenant: str,
        current: DeliveryTarget | None,
        xrefs: CrossReferences,
    ) -> DeliveryTarget: ...
