"""Webhook senders: QuickBooks' intuit-signature and payloads, and Standard Webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time

import pytest

from connectors.errors import MessageMalformed, SenderRefused
from connectors.quickbooks.webhooks import QuickBooksWebhooks, route, signature_of, verify
from connectors.sdk.interfaces import RoutedEvent
from connectors.sdk.webhooks import (
    StandardWebhooks,
    standard_webhook_sign,
    standard_webhook_verify,
)
from tests.connectors.pipeline_parts.conftest import fixture_bytes

# fixtures/qbo_webhook_signature.txt
VERIFIER = "fd3c8e2a-4b7d-4e51-9c0a-6a2f1b9d7e44"
CLASSIC_SIGNATURE = "SUabIFnTNoziIDtHR1Njtk1Q1AwDADWpct3eO4xOhmU="
CLOUDEVENTS_SIGNATURE = "vMtkklxl/0B5gW2c3vxT6WSZfSBHjB0Z2mcGCFNEJYM="
TAMPERED_SIGNATURE = "l1rumuIQ4g0NS/QKevEdDTycQ1d4Q0EQAyVY+Z9JebE="


def test_the_fixture_signatures_verify():
    classic = fixture_bytes("qbo_webhook_notification.json")
    cloudevents = fixture_bytes("qbo_webhook_cloudevents.json")

    assert len(classic) == 381 and len(cloudevents) == 619
    assert verify({"intuit-signature": CLASSIC_SIGNATURE}, classic, [VERIFIER])
    assert verify({"Intuit-Signature": CLOUDEVENTS_SIGNATURE}, cloudevents, [VERIFIER])
    assert signature_of(classic, VERIFIER) == CLASSIC_SIGNATURE


def test_a_tampered_body_fails_with_the_original_signature():
    tampered = fixture_bytes("qbo_webhook_notification.json").replace(b"1045", b"1046", 1)
    assert hashlib.sha256(tampered).hexdigest() == (
        "fcd53412d1cf9adc29ff568c2797077e34fe9207e83ca421e4c0c746f165bc99"
    )

    assert not verify({"intuit-signature": CLASSIC_SIGNATURE}, tampered, [VERIFIER])
    assert verify({"intuit-signature": TAMPERED_SIGNATURE}, tampered, [VERIFIER])


def test_python_quickbooks_published_vector():
    # ej2/python-quickbooks tests/unit/test_client.py (PROVIDERS.md Q44)
    assert verify(
        {"intuit-signature": "nfPLN16u3vMvv08ghDs+dOkLuirEVDy5wAeG/lmM2OA="},
        b'{"stuff":"5"}',
        ["verify_me"],
    )


@pytest.mark.parametrize(
    "headers,secrets",
    [
        ({}, [VERIFIER]),
        ({"intuit-signature": ""}, [VERIFIER]),
        ({"intuit-signature": "not base64!"}, [VERIFIER]),
        ({"intuit-signature": CLASSIC_SIGNATURE}, []),
        ({"intuit-signature": CLASSIC_SIGNATURE}, ["another-token"]),
    ],
    ids=["missing", "empty", "garbage", "no-token", "wrong-token"],
)
def test_anything_else_is_refused(headers, secrets):
    assert not verify(headers, fixture_bytes("qbo_webhook_notification.json"), secrets)


def test_during_a_rotation_either_token_verifies():
    body = fixture_bytes("qbo_webhook_notification.json")

    assert QuickBooksWebhooks().verify(
        {"intuit-signature": CLASSIC_SIGNATURE}, body, ["new-token", VERIFIER]
    )


def test_the_classic_payload_routes_every_entity():
    events = route(json.loads(fixture_bytes("qbo_webhook_notification.json")))

    assert events == [
        RoutedEvent("9341453908059321", "Invoice", "1045", "Create",
                    {"last_updated": "2025-03-14T16:02:14.000Z"}),
        RoutedEvent("9341453908059321", "Customer", "58", "Update",
                    {"last_updated": "2025-03-14T16:01:58.000Z"}),
        RoutedEvent("9341453908059321", "Customer", "61", "Merge",
                    {"last_updated": "2025-03-14T16:01:59.000Z", "deleted_id": "57"}),
    ]  # fmt: skip


def test_the_cloudevents_payload_routes_the_same_events():
    events = QuickBooksWebhooks().route(fixture_bytes("qbo_webhook_cloudevents.json"))

    assert [(e.account_id, e.object_type, e.external_id, e.operation) for e in events] == [
        ("9341453908059321", "Invoice", "1045", "Create"),
        ("9341453908059321", "Customer", "61", "Merge"),
    ]
    assert events[1].data["deleted_id"] == "57"
    assert events[0].data["event_id"] == "5f0c2d8e-3b7a-4f1e-9a6c-2d4b8e1f7a30"


def test_one_cloudevents_delivery_can_span_realms():
    events = json.loads(fixture_bytes("qbo_webhook_cloudevents.json"))
    events[1]["intuitaccountid"] = "4620816365285017"

    assert [event.account_id for event in route(events)] == [
        "9341453908059321",
        "4620816365285017",
    ]


@pytest.mark.parametrize(
    "payload", [b"{not json", {"something": "else"}, [{"type": "other.event"}], "[1]"]
)
def test_what_is_neither_format_is_malformed(payload):
    with pytest.raises(MessageMalformed):
        route(payload)


# --- Standard Webhooks ------------------------------------------------------------------------

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def spec_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The specification's construction, written out here independently of the module."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(msg_id: str, timestamp: int, signature: str) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def test_the_specifications_published_example_verifies():
    body = b'{"test": 2432232314}'
    signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    assert spec_signature(SPEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        signature
    )
    assert (
        standard_webhook_sign(
            SPEC_SECRET, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330, body=body
        )
        == signature
    )
    standard_webhook_verify(
        headers("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, signature),
        body,
        [SPEC_SECRET],
        now=1614265330 + 60,
    )


def test_a_fresh_delivery_verifies():
    secret, now, body = new_secret(), int(time.time()), b'{"type":"invoice.created"}'

    signed = headers("msg_1", now, spec_signature(secret, "msg_1", now, body))

    assert StandardWebhooks().verify(signed, body, [secret])


def test_a_wrong_secret_or_a_changed_body_is_refused():
    secret, now, body = new_secret(), int(time.time()), b'{"a":1}'
    signed = headers("msg_1", now, spec_signature(secret, "msg_1", now, body))

    with pytest.raises(SenderRefused, match="No webhook signature matches"):
        standard_webhook_verify(signed, body, [new_secret()])
    with pytest.raises(SenderRefused, match="No webhook signature matches"):
        standard_webhook_verify(signed, b'{"a":2}', [secret])
    assert not StandardWebhooks().verify(signed, body, [new_secret()])


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_a_timestamp_outside_five_minutes_is_refused(offset):
    secret, now, body = new_secret(), int(time.time()), b"{}"
    stamp = now + offset
    signed = headers("msg_1", stamp, spec_signature(secret, "msg_1", stamp, body))

    with pytest.raises(SenderRefused, match="at most 300 s are accepted") as refused:
        standard_webhook_verify(signed, body, [secret], now=now)

    assert refused.value.status == 403


def test_inside_the_window_is_accepted():
    secret, now, body = new_secret(), int(time.time()), b"{}"
    stamp = now - 299

    standard_webhook_verify(
        headers("msg_1", stamp, spec_signature(secret, "msg_1", stamp, body)),
        body,
        [secret],
        now=now,
    )


def test_rotation_old_and_new_secrets_and_several_signatures():
    old, new, now, body = new_secret(), new_secret(), int(time.time()), b"{}"
    by_old = spec_signature(old, "msg_1", now, body)
    by_new = spec_signature(new, "msg_1", now, body)

    for signature in (by_old, by_new, f"v1,AAAA {by_new}", f"v2,xyz {by_old}"):
        standard_webhook_verify(headers("msg_1", now, signature), body, [new, old])
    with pytest.raises(SenderRefused):
        standard_webhook_verify(headers("msg_1", now, by_old), body, [new])


@pytest.mark.parametrize(
    "broken",
    [
        {"webhook-id": ""},
        {"webhook-timestamp": "yesterday"},
        {"webhook-signature": "v2,abc"},
        {"webhook-signature": "v1,not base64!"},
    ],
    ids=["no-id", "bad-timestamp", "no-v1", "bad-base64"],
)
def test_broken_headers_are_refused(broken):
    secret, now, body = new_secret(), int(time.time()), b"{}"
    signed = {**headers("msg_1", now, spec_signature(secret, "msg_1", now, body)), **broken}

    with pytest.raises(SenderRefused):
        standard_webhook_verify(signed, body, [secret])
