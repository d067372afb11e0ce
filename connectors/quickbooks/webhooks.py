"""QuickBooks Online webhooks: the ``intuit-signature`` check and both payload formats.

``verify`` recomputes base64(HMAC-SHA256(verifier token, raw body)) (Q44) over
the raw bytes as received — never re-serialised JSON (pitfall 8) — against
each verifier token held (several during a rotation), in constant time.

``route`` reads the classic ``eventNotifications`` payload (Q41) and the
CloudEvents array that replaces it (Q42-Q43), which may span several realms,
into ``RoutedEvent``s: realm id, entity, entity id, operation, and a merge's
deleted id in ``data["deleted_id"]``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from connectors.errors import MessageMalformed
from connectors.sdk.interfaces import RoutedEvent

SIGNATURE_HEADER = "intuit-signature"
#: CloudEvents verbs (``qbo.invoice.created.v1``) as the classic format's operations.
_OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def signature_of(raw_body: bytes, token: str) -> str:
    """base64(HMAC-SHA256(key=token, msg=raw body)) (Q44)."""
    digest = hmac.new(token.encode(), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(headers: Mapping[str, str], raw_body: bytes, secrets: list[str]) -> bool:
    """Whether ``intuit-signature`` signs ``raw_body`` with one of the verifier tokens.

    A missing or undecodable header, or no token, is ``False``: refuse, do not process.
    """
    received = _header(headers, SIGNATURE_HEADER)
    if not received or not secrets:
        return False
    try:
        sent = base64.b64decode(received.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    matched = False
    for token in secrets:  # every token is tried, so timing says nothing about which matched
        expected = hmac.new(token.encode(), raw_body, hashlib.sha256).digest()
        matched |= hmac.compare_digest(expected, sent)
    return matched


def _classic(payload: Mapping[str, Any]) -> list[RoutedEvent]:
    events = []
    for notification in payload.get("eventNotifications") or []:
        if not isinstance(notification, Mapping):
            raise MessageMalformed("An eventNotifications entry is not an object.")
        realm = str(notification.get("realmId") or "")
        change = notification.get("dataChangeEvent") or {}
        for entity in change.get("entities") or []:
            if not realm or not isinstance(entity, Mapping) or not entity.get("id"):
                raise MessageMalformed("A webhook entity lacks its realmId or id.")
            data: dict[str, Any] = {}
            if entity.get("lastUpdated"):
                data["last_updated"] = entity["lastUpdated"]
            if entity.get("deletedId"):
                data["deleted_id"] = str(entity["deletedId"])
            events.append(
                RoutedEvent(
                    account_id=realm,
                    object_type=str(entity.get("name", "")),
                    external_id=str(entity["id"]),
                    operation=str(entity.get("operation", "")),
                    data=data,
                )
            )
    return events


def _cloudevent(event: Any) -> RoutedEvent:
    if not isinstance(event, Mapping):
        raise MessageMalformed("A CloudEvents entry is not an object.")
    parts = str(event.get("type", "")).split(".")  # qbo.<entity>.<verb>.v1
    realm, entity_id = event.get("intuitaccountid"), event.get("intuitentityid")
    if len(parts) < 3 or parts[0] != "qbo" or not realm or not entity_id:
        raise MessageMalformed(
            f"CloudEvent {event.get('id')!r} is not a QuickBooks event "
            f"(type {event.get('type')!r})."
        )
    entity, verb = parts[1], parts[2]
    data: dict[str, Any] = {"event_id": event.get("id"), "time": event.get("time")}
    deleted = (event.get("data") or {}).get("deletedid")
    if deleted:
        data["deleted_id"] = str(deleted)
    return RoutedEvent(
        account_id=str(realm),
        object_type=entity[:1].upper() + entity[1:],
        external_id=str(entity_id),
        operation=_OPERATIONS.get(verb, verb.capitalize()),
        data={key: value for key, value in data.items() if value is not None},
    )


def route(payload: Any) -> list[RoutedEvent]:
    """The events of a delivery, classic (an object) or CloudEvents (an array)."""
    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise MessageMalformed(f"The webhook body is not JSON: {exc}") from None
    if isinstance(payload, list):
        return [_cloudevent(event) for event in payload]
    if isinstance(payload, Mapping) and "eventNotifications" in payload:
        return _classic(payload)
    raise MessageMalformed("The webhook body is neither eventNotifications nor CloudEvents.")


class QuickBooksWebhooks:
    """The ``Webhooks`` of ``connectors.sdk.interfaces``."""

    signature_header = SIGNATURE_HEADER

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secrets: list[str]) -> bool:
        return verify(headers, raw_body, secrets)

    def route(self, payload: Any) -> list[RoutedEvent]:
        return route(payload)
