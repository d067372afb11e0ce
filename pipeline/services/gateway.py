"""L1: store a raw message durably, then say what to acknowledge.

Order matters, and is the whole point of this module:

1. the sender is recognised (``connector.inbound.accept``: org id, signature)
   before anything is stored; a refused sender leaves a security event;
2. the raw bytes are committed to PostgreSQL, in one INSERT of their own (its
   "received" history row follows with L2's batch: the hot path is one statement);
3. only then, once committed, is the message queued for L2 (Redis being down
   is logged, not fatal: the sweeper queues stored messages again);
4. the acknowledgement is returned.

PostgreSQL down → ``StoreUnavailable`` (503): never an acknowledgement for
what is not stored. A message whose delivery ids were all seen before
collapses onto the first (the unique ``dedupe_key``) and is acknowledged again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, transaction

from connectors.models import Connection
from connectors.registry import connector_get
from connectors.sdk.interfaces import InboundAccepted
from connectors.services.credentials import credentials_reveal
from nexiom.correlation import correlation_current, correlation_new
from nexiom.errors import DomainError
from pipeline.errors import HookUnknown, StoreUnavailable
from pipeline.models import InboundMessage
from sync_history.models import EventStatus, Layer
from sync_history.services import Event, event_record

logger = logging.getLogger(__name__)

RAW_PREVIEW = 4096


@dataclass(frozen=True)
class Ingested:
    message_id: int
    duplicate: bool
    accepted: InboundAccepted


def dedupe_key_for(accepted: InboundAccepted, raw: bytes) -> str:
    """The sender's delivery ids, sorted and hashed; the body's hash when it sends none."""
    if accepted.delivery_ids:
        material = "\n".join(sorted(set(accepted.delivery_ids))).encode()
    else:
        material = b"body:" + raw
    return hashlib.sha256(material).hexdigest()


def inbound_for(connection: Connection):
    inbound = connector_get(key=connection.connector).inbound
    if inbound is None:
        raise HookUnknown()  # this system sends nothing Nexiom reads
    return inbound


def message_ingest(
    *,
    connection: Connection,
    raw: bytes,
    content_type: str,
    headers: Mapping[str, str],
    enqueue,
) -> Ingested:
    """Recognise, store and queue one message; the caller acknowledges what this returns."""
    inbound = inbound_for(connection)
    try:
        secrets = _hook_secrets(connection, inbound)
    except DatabaseError as exc:  # the vault's row or its audit: not stored, so no ack
        logger.error("gateway: signing secrets of connection %s unreadable: %s", connection.pk, exc)
        raise StoreUnavailable() from exc
    try:
        accepted = inbound.accept(
            raw=raw, headers=headers, metadata=connection.metadata, secrets=secrets
        )
    except DomainError as error:
        if error.status == 403:
            _security_event(connection, error)
        raise
    key = dedupe_key_for(accepted, raw)
    try:
        message, created = _store(connection, raw, content_type, key, accepted)
    except DatabaseError as exc:
        logger.error("gateway: message of connection %s not stored: %s", connection.pk, exc)
        raise StoreUnavailable() from exc
    if created:  # after the commit (the caller's, when it holds a transaction)
        transaction.on_commit(lambda: _enqueue_quietly(enqueue, message.pk))
    return Ingested(message_id=message.pk, duplicate=not created, accepted=accepted)


def _store(connection, raw, content_type, key, accepted) -> tuple[InboundMessage, bool]:
    """The message's INSERT, committed on its own: the gateway's hot path is this one
    statement. Its "received" history row is written by L2 with the batch the message
    joins (``pipeline.services.replica``), dated when the message arrived. Inside a
    caller's transaction a savepoint keeps a duplicate's IntegrityError from breaking it."""
    guard = nullcontext() if transaction.get_autocommit() else transaction.atomic()
    try:
        with guard:
            message = InboundMessage.objects.create(
                connection=connection,
                content_type=content_type[:100],
                body=raw,
                body_size=len(raw),
                dedupe_key=key,
                notification_count=len(accepted.delivery_ids),
                # The request's id (pipeline.views), so its log lines match the message's.
                correlation_id=correlation_current() or correlation_new(),
            )
    except IntegrityError:
        message = InboundMessage.objects.get(connection=connection, dedupe_key=key)
        event_record(
            Event(
                layer=Layer.GATEWAY,
                status=EventStatus.SKIPPED,
                message_id=message.pk,
                connection_id=connection.pk,
                detail={"reason": "re-sent: same delivery ids as this message"},
                correlation_id=message.correlation_id,
            )
        )
        return message, False
    return message, True


def received_event(message: InboundMessage) -> Event:
    """The gateway's history row of a stored message (written by L2, see ``_store``)."""
    raw = bytes(message.body or b"")
    return Event(
        layer=Layer.GATEWAY,
        status=EventStatus.RECEIVED,
        at=message.received_at,
        message_id=message.pk,
        connection_id=message.connection_id,
        correlation_id=message.correlation_id,
        detail={
            "bytes": message.body_size,
            "notifications": message.notification_count,
            # The start of the raw message; the whole one stays in the pipeline's
            # table until the tenant's retention prunes it.
            "raw": {"preview": raw[:RAW_PREVIEW].decode("utf-8", "replace")},
        },
    )


def _enqueue_quietly(enqueue, message_id: int) -> None:
    try:
        enqueue([message_id])
    except Exception:  # the message is stored: the sweeper will queue it
        logger.warning("gateway: queueing message %s failed; the sweeper will", message_id)


def _hook_secrets(connection: Connection, inbound) -> list[str]:
    """Signing secrets of senders that sign (QuickBooks verifier tokens, Standard
    Webhooks): sealed with the connection's credentials under "webhook_secrets", never in
    its metadata (which the API shows). Read only for an inbound that verifies signatures;
    Outbound Messages are recognised by their org id and need none."""
    if not getattr(inbound, "verifies_signatures", False):
        return []
    revealed = credentials_reveal(connection=connection, reason="verify a webhook's signature")
    secrets = revealed.get("webhook_secrets") or []
    return [s for s in secrets if isinstance(s, str)]


def _security_event(connection: Connection, error: DomainError) -> None:
    logger.warning("gateway: sender refused on connection %s: %s", connection.pk, error.message)
    try:
        event_record(
            Event(
                layer=Layer.GATEWAY,
                status=EventStatus.REFUSED,
                connection_id=connection.pk,
                error_code=error.code,
                error=error.message,
            )
        )
    except DatabaseError:  # the refusal stands; only its history row is missing
        logger.error("gateway: refusal on connection %s not recorded", connection.pk)
