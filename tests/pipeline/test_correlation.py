"""One correlation id per inbound message, from L1 to the QuickBooks request headers.

Run end to end (real worker thread, the QuickBooks sandbox): the id minted
when the hook stored the message is on every history row of its records'
lineage, on every JSON log line written while a layer worked on them, and
in the ``X-Correlation-Id`` header of every API request sent for them (the
process's shared HTTP adapter is spied on; the requests still go out).
"""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
import responses
from django_tenants.utils import schema_context

from connectors.sdk import client as sdk_client
from connectors.sdk.client import Client, pooled_session
from nexiom.correlation import correlated
from nexiom.logging_json import JsonFormatter
from pipeline.models import Delivery, InboundMessage, ReplicaRecord
from sync_history.models import SyncEvent
from tests.pipeline.conftest import FIXTURES, wait_until, wired_as
from vault.redaction import RedactingFilter

INVOICES = (FIXTURES / "revenova_outbound_invoice.xml").read_bytes()
LAYERS = {"gateway", "replica", "normalize", "outbound", "delivery"}
SLUG = "corr"


wired = wired_as(SLUG)  # the pipeline's wired tenant under a slug of this module's own


@pytest.fixture
def json_lines():
    """Every log line of this process (worker thread included) as the JSON switch writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    debug = [logging.getLogger(name) for name in ("sync_history.services", "urllib3")]
    saved = [logger.level for logger in debug]
    root.addHandler(handler)
    for logger in debug:
        logger.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    for logger, level in zip(debug, saved, strict=True):
        logger.setLevel(level)


@pytest.fixture
def sent(monkeypatch):
    """(method, url, headers) of every request sent on the shared adapter."""
    seen: list[tuple[str, str, dict[str, str]]] = []
    real = sdk_client._SHARED_ADAPTER.send

    def spy(request, *args, **kwargs):
        seen.append((request.method, request.url, dict(request.headers)))
        return real(request, *args, **kwargs)

    monkeypatch.setattr(sdk_client._SHARED_ADAPTER, "send", spy)
    return seen


def test_one_id_follows_the_message_through_every_layer(
    wired, qbo_sandbox, django_db_blocker, json_lines, sent
):
    with django_db_blocker.unblock():
        response = wired.post(INVOICES)

        assert response.status_code == 200, response.content

        def delivered() -> int:
            with schema_context(wired.tenant.schema_name):
                return Delivery.objects.filter(status=Delivery.Status.DELIVERED).count()

        wait_until(lambda: delivered() == 2, what="two delivered invoices")
        with schema_context(wired.tenant.schema_name):
            message = InboundMessage.objects.get()
            records = list(ReplicaRecord.objects.values_list("pk", flat=True))
            rows = list(
                SyncEvent.objects.filter(message_id=message.pk).values_list(
                    "layer", "status", "record_id", "correlation_id"
                )
            )
            by_id = set(
                SyncEvent.objects.filter(correlation_id=message.correlation_id).values_list(
                    "pk", flat=True
                )
            )
            lineage = set(
                SyncEvent.objects.filter(record_id__in=records).values_list("pk", flat=True)
            )

    correlation_id = message.correlation_id
    assert str(uuid.UUID(correlation_id)) == correlation_id
    # History: every row of the message and its two records, L1 to L5, carries it.
    assert {layer for layer, *_ in rows} == LAYERS
    assert len(records) == 2
    assert {record for _, _, record, _ in rows if record} == set(records)
    assert {cid for *_, cid in rows} == {correlation_id}
    assert lineage <= by_id
    assert len(by_id) == len(rows) == 9  # 1 received + 2 records x 4 layers

    # Logs: the history lines of every layer, and the HTTP lines sent for the records.
    lines = json_lines()
    history = [line for line in lines if line["logger"] == "sync_history.services"]
    ours = [line for line in history if f"message {message.pk}," in line["message"]]
    assert {line["message"].split()[1] for line in ours} == LAYERS
    assert {line["correlation_id"] for line in ours} == {correlation_id}
    in_tasks = [line for line in ours if line["task"]]
    assert {line["task"] for line in in_tasks} == {
        "pipeline.l2_replica",
        "pipeline.l3_normalize",
        "pipeline.l4_outbound",
        "pipeline.l5_deliver",
    }
    assert all(line["task_id"] and line["tenant"] == SLUG for line in in_tasks)
    api_lines = [
        line
        for line in lines
        if line["logger"].startswith("urllib3") and "/v3/company/" in line["message"]
    ]
    assert api_lines
    assert {line["correlation_id"] for line in api_lines} == {correlation_id}
    assert {line["task"] for line in api_lines} == {"pipeline.l5_deliver"}

    # The target: every QuickBooks API request for these records had the header.
    api = [(method, url, headers) for method, url, headers in sent if "/v3/company/" in url]
    assert any(method == "POST" and "/invoice" in url for method, url, _ in api)
    assert {headers.get("X-Correlation-Id") for *_, headers in api} == {correlation_id}


def test_each_message_gets_its_own_id(wired, django_db_blocker):
    with django_db_blocker.unblock():
        with schema_context(wired.tenant.schema_name):
            before = set(InboundMessage.objects.values_list("correlation_id", flat=True))
        for prefix in (b"<Id>05l", b"<Id>06l"):  # new notification ids, same records
            assert wired.post(INVOICES.replace(b"<Id>04l", prefix)).status_code == 200
        with schema_context(wired.tenant.schema_name):
            after = list(InboundMessage.objects.values_list("correlation_id", flat=True))

    new = set(after) - before
    assert len(after) == len(set(after)) == len(before) + 2
    assert len(new) == 2 and "" not in new


@responses.activate
def test_the_client_sends_the_bound_id_and_nothing_outside_a_record():
    responses.add(responses.GET, "https://api.example/v1/things", json={})
    client = Client(
        base_url="https://api.example/v1",
        session=pooled_session(),
        is_expired=lambda response: False,
    )

    client.get("things", headers={"Accept": "application/json"})
    for _ in correlated(["one"], lambda item: "cid-123"):
        client.get("things", headers={"Accept": "application/json"})
    client.get("things")

    headers = [call.request.headers for call in responses.calls]
    assert [h.get("X-Correlation-Id") for h in headers] == [None, "cid-123", None]
    assert headers[1]["Accept"] == "application/json"


@responses.activate
def test_a_connector_may_turn_the_header_off():
    responses.add(responses.GET, "https://api.example/v1/things", json={})

    class Quiet(Client):
        correlation_header = None

    client = Quiet(
        base_url="https://api.example/v1", session=pooled_session(), is_expired=lambda r: False
    )
    for _ in correlated(["one"], lambda item: "cid-123"):
        client.get("things")

    assert "X-Correlation-Id" not in responses.calls[0].request.headers
