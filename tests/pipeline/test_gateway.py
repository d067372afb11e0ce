"""L1 at its door: what ``/hooks/<token>`` refuses, and that a refusal stores nothing.

Every refusal of an Outbound Message is a SOAP fault (Salesforce shows its
text to the sender's admins and retries it), never the acknowledgement.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import redis
from django.db import OperationalError
from django_tenants.utils import schema_context

from pipeline import queues
from pipeline.models import HookToken, InboundMessage
from pipeline.services import hooks
from pipeline.services.hooks import hook_issue
from pipeline.tasks import sweep_tenant
from tests.pipeline.conftest import ORG_ID
from tests.pipeline.support import (
    ACK,
    DATA,
    deliveries,
    events,
    in_tenant,
    invoice,
    invoices_by_number,
    message,
    table_counts,
    tag,
    wait_delivered,
)

pytestmark = pytest.mark.usefixtures("fresh")

NOTHING = {
    "messages": 0,
    "replicas": 0,
    "canonicals": 0,
    "deliveries": 0,
    "xrefs": 0,
    "events": 0,
}


def is_fault(response, code: str = "soapenv:Client") -> bool:
    return (
        response["Content-Type"] == "text/xml; charset=utf-8"
        and f"<faultcode>{code}</faultcode>".encode() in response.content
        and b"<Ack>" not in response.content
    )


def a_normal_message_still_flows(wired, qbo) -> None:
    run = tag()
    response = wired.post(message([invoice(run, 1)]))
    assert response.content == ACK
    wait_delivered(wired, 1)
    assert len(invoices_by_number(qbo, wired.books.realm_id, f"T{run}-")[f"T{run}-0001"]) == 1


def _nested(depth: int) -> bytes:
    raw = message([invoice(tag(), 1)])
    deep = b"<x>" * depth + b"</x>" * depth
    return raw.replace(b"<sf:Name>", b"<sf:Memo__c>" + deep + b"</sf:Memo__c><sf:Name>", 1)


HOSTILE = {
    "xxe": lambda: (DATA / "bad_xxe.xml").read_bytes(),
    "billion laughs": lambda: (DATA / "bad_xml_bomb.xml").read_bytes(),
    "malformed": lambda: (DATA / "bad_malformed.xml").read_bytes(),
    "a DTD": lambda: (
        b'<?xml version="1.0"?>\n<!DOCTYPE Envelope SYSTEM "x.dtd">\n'
        + message([invoice(tag(), 1)]).split(b"\n", 1)[1]
    ),
    "deep nesting": lambda: _nested(200),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_xml_is_a_soap_fault_and_stores_nothing(fresh, qbo, kind):
    response = fresh.post(HOSTILE[kind]())

    assert response.status_code == 400
    assert is_fault(response)
    assert table_counts(fresh) == NOTHING
    a_normal_message_still_flows(fresh, qbo)


def test_a_10_mb_message_is_refused_with_413(fresh, qbo):
    raw = message([invoice(tag(), 1)])
    huge = raw.replace(b"<soapenv:Body>", b"<soapenv:Body><!--" + b"x" * 10_485_760 + b"-->")

    response = fresh.post(huge)

    assert response.status_code == 413
    assert is_fault(response)
    assert b"at most" in response.content
    assert table_counts(fresh) == NOTHING
    a_normal_message_still_flows(fresh, qbo)


# --- external entities: no file read, no connection made ---------------------------------------


def _read_since_probe(path: Path) -> bool:
    stat = path.stat()
    return stat.st_atime_ns >= stat.st_mtime_ns


def _probe(path: Path) -> None:
    """atime before mtime: a read moves it (relatime), so a read can be seen afterwards."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_mtime_ns - 10**10, stat.st_mtime_ns))


def test_external_entities_read_no_file_and_open_no_connection(fresh, qbo, tmp_path):
    marker, control = tmp_path / "secret.txt", tmp_path / "control.txt"
    marker.write_text("MARKER-51c0de")
    control.write_text("control")
    _probe(marker)
    _probe(control)
    control.read_text()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    raw = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!DOCTYPE soapenv:Envelope [\n"
        f' <!ENTITY xxe SYSTEM "file://{marker}">\n'
        f' <!ENTITY remote SYSTEM "http://127.0.0.1:{port}/latest/meta-data/">\n'
        f' <!ENTITY % dtd SYSTEM "http://127.0.0.1:{port}/evil.dtd"> %dtd;\n'
        "]>\n"
    ).encode() + message([invoice(tag(), 1, Name="&xxe;", Load_Number__c="&remote;")]).split(
        b"\n", 1
    )[1].replace(b"&amp;xxe;", b"&xxe;").replace(b"&amp;remote;", b"&remote;")

    try:
        response = fresh.post(raw)
        try:
            listener.accept()
            connected = True
        except BlockingIOError:
            connected = False
    finally:
        listener.close()

    assert response.status_code == 400
    assert is_fault(response)
    assert b"MARKER-51c0de" not in response.content
    assert not connected, "the gateway connected to the entity's URL"
    if _read_since_probe(control):  # this filesystem records reads
        assert not _read_since_probe(marker), "the gateway read the entity's file"
    assert table_counts(fresh) == NOTHING


# --- the sender -----------------------------------------------------------------------------


def test_a_message_from_another_org_is_refused_with_a_security_event(fresh):
    raw = (DATA / "bad_wrong_org.xml").read_bytes()

    response = fresh.post(raw)

    assert response.status_code == 403
    assert is_fault(response)
    assert b"00D8c000004WbRfEAK" in response.content
    [event] = events(fresh)
    assert (event.layer, event.status, event.error_code) == ("gateway", "refused", "sender_refused")
    assert event.connection_id == fresh.revenova.pk
    assert ORG_ID in event.error
    assert table_counts(fresh) == {**NOTHING, "events": 1}


def test_a_message_that_is_not_xml_is_refused_with_415(fresh):
    response = fresh.post(b'{"invoice": 1}', content_type="application/json")

    assert response.status_code == 415
    assert is_fault(response)
    assert table_counts(fresh) == NOTHING


def test_an_unknown_or_revoked_hook_token_is_404_and_reissuing_revokes(fresh, qbo):
    raw = message([invoice(tag(), 1)])
    old_path = fresh.hook_path

    unknown = fresh.post(raw, path="/hooks/not-a-token-of-anyone")
    with schema_context(fresh.tenant.schema_name):
        issued = hook_issue(connection=fresh.revenova)
    fresh.hook_path = "/" + issued.url.split("/", 3)[3]
    revoked = fresh.post(raw, path=old_path)

    assert unknown.status_code == revoked.status_code == 404
    assert b"Ack" not in unknown.content + revoked.content
    assert table_counts(fresh) == NOTHING
    with schema_context(fresh.tenant.schema_name):
        assert HookToken.objects.filter(revoked_at__isnull=True).count() == 1
    assert fresh.post(raw).content == ACK
    wait_delivered(fresh, 1)


# --- the stores behind it ---------------------------------------------------------------------


def test_postgresql_refusing_the_store_is_503_and_never_an_ack(fresh, monkeypatch):
    # Stopping the shared PostgreSQL server would take the test database (and every
    # other session on this machine) down with it; the gateway's promise is about the
    # INSERT of the raw message failing, so that INSERT is made to fail, in-process,
    # for this one request. (Everything before it - the host, the token - still reads.)
    def unavailable(**kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(InboundMessage.objects, "create", unavailable)
    response = fresh.post(message([invoice(tag(), 1)]))
    monkeypatch.undo()

    assert response.status_code == 503
    assert is_fault(response, code="soapenv:Server")
    assert table_counts(fresh) == NOTHING


def test_postgresql_gone_at_the_hook_lookup_is_503_with_retry_after(fresh, monkeypatch):
    # `make chaos` found the window: PostgreSQL restarting between the host's lookup
    # (the middleware's 503) and the store; the token's lookup sits in between.
    def unavailable(token_hash):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(hooks, "_live_connection", unavailable)
    response = fresh.post(message([invoice(tag(), 1)]))
    monkeypatch.undo()

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"Ack" not in response.content
    assert table_counts(fresh) == NOTHING


def test_redis_down_still_acks_and_the_sweeper_queues_the_message_later(fresh, qbo, monkeypatch):
    run = tag()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = redis.Redis(host="127.0.0.1", port=closed, socket_connect_timeout=1)

    monkeypatch.setattr(queues, "_redis", lambda: down)
    response = fresh.post(message([invoice(run, 1)]))
    monkeypatch.undo()

    assert response.status_code == 200
    assert response.content == ACK
    stored = in_tenant(fresh, lambda: list(InboundMessage.objects.values_list("status", flat=True)))
    assert stored == ["stored"]
    assert deliveries(fresh) == []
    with schema_context(fresh.tenant.schema_name):
        swept = sweep_tenant()
    assert swept["messages"] == 1
    wait_delivered(fresh, 1)
    assert len(invoices_by_number(qbo, fresh.books.realm_id, f"T{run}-")[f"T{run}-0001"]) == 1
