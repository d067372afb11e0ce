"""The hardened Salesforce Outbound Message parser, its responses and org ids."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from connectors.errors import MessageHostile, MessageMalformed, MessageTooLarge
from connectors.salesforce import outbound_messages
from connectors.salesforce.outbound_messages import (
    MAX_DEPTH,
    ack_response,
    fault_response,
    org_id_matches,
    parse_outbound_message,
    salesforce_id_18,
)
from tests.connectors.pipeline_parts.conftest import fixture_bytes


def test_the_invoice_message_parses_into_its_header_and_notifications(invoice_xml):
    message = parse_outbound_message(invoice_xml)

    assert message.organization_id == "00D5e000000KqTzEAK"
    assert message.action_id == "04k5e000000CkQ2AAK"
    assert message.session_id.startswith("00D5e000000KqTz!")
    assert message.enterprise_url.endswith("/services/Soap/c/62.0/00D5e000000KqTz")
    assert message.partner_url.endswith("/services/Soap/u/62.0/00D5e000000KqTz")
    first, second = message.notifications
    assert first.notification_id == "04l5e00000HcA1BAAV"
    assert first.object_type == "rtms__CustomerInvoice__c"
    assert first.fields["Bill_To_Account_Name__c"] == "Great Lakes Packaging & Supply Co."
    assert first.fields["rtms__Invoice_Total__c"] == "2437.5"
    assert len(first.fields) == 22
    assert second.fields["Accessorial_Summary__c"] is None  # xsi:nil="true"


def test_a_nil_session_id_is_none(load_xml):
    message = parse_outbound_message(load_xml)

    assert message.session_id is None
    assert message.notifications[0].object_type == "rtms__Load__c"


@pytest.mark.parametrize(
    "name,error,reason",
    [
        ("bad_malformed.xml", MessageMalformed, "not well-formed XML: xmlParseEntityRef"),
        ("bad_xml_bomb.xml", MessageHostile, "document type declaration (<!DOCTYPE)"),
        ("bad_xxe.xml", MessageHostile, "document type declaration (<!DOCTYPE)"),
    ],
)
def test_bad_fixtures_are_refused_with_the_reason(name, error, reason):
    with pytest.raises(error) as refused:
        parse_outbound_message(fixture_bytes(name))

    assert reason in refused.value.message
    assert refused.value.status == 400
    assert refused.value.code in ("message_malformed", "message_hostile")


def test_the_wrong_org_fixture_parses_and_is_told_apart_by_its_org_id():
    message = parse_outbound_message(fixture_bytes("bad_wrong_org.xml"))

    assert message.organization_id == "00D8c000004WbRfEAK"
    assert not org_id_matches(message.organization_id, "00D5e000000KqTzEAK")
    assert not org_id_matches(message.organization_id, "00D5e000000KqTz")


# --- XXE: no file is read, no connection is made ----------------------------------------------


def _atime_probe(path: Path) -> bool:
    """Set the file's atime before its mtime so that a read updates it (relatime)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_mtime_ns - 10**10, stat.st_mtime_ns))
    return path.stat().st_atime_ns < stat.st_mtime_ns


def _was_read(path: Path) -> bool:
    stat = path.stat()
    return stat.st_atime_ns >= stat.st_mtime_ns


def _hostile(marker: Path, port: int) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE soapenv:Envelope [
 <!ENTITY xxe SYSTEM "file://{marker}">
 <!ENTITY remote SYSTEM "http://127.0.0.1:{port}/latest/meta-data/">
 <!ENTITY % dtd SYSTEM "http://127.0.0.1:{port}/evil.dtd"> %dtd;
]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">
  <OrganizationId>00D5e000000KqTzEAK</OrganizationId>
  <Notification><Id>04l5e00000HcA1BAAV</Id>
   <sObject xsi:type="sf:rtms__CustomerInvoice__c"
     xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
    <sf:Id>a0M5e00000Lk3QaEAJ</sf:Id><sf:Name>&xxe;</sf:Name>
    <sf:Load_Number__c>&remote;</sf:Load_Number__c>
   </sObject></Notification>
 </notifications></soapenv:Body></soapenv:Envelope>""".encode()


@pytest.fixture
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def _accepted(server: socket.socket) -> bool:
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


@pytest.mark.parametrize("layer", ["parser", "lxml-alone"])
def test_external_entities_read_no_file_and_open_no_connection(tmp_path, listener, layer):
    marker = tmp_path / "secret.txt"
    marker.write_text("MARKER-7f3a9c")
    probe_works = _atime_probe(marker)
    control = tmp_path / "control.txt"
    control.write_text("control")
    _atime_probe(control)
    control.read_text()
    raw = _hostile(marker, listener.getsockname()[1])
    # "lxml-alone" skips the byte screen: the parser settings must hold on their own.
    parse = parse_outbound_message if layer == "parser" else outbound_messages._parse_tree

    with pytest.raises(MessageHostile) as refused:
        parse(raw)

    assert "MARKER-7f3a9c" not in refused.value.message
    assert not _accepted(listener), "the parser connected to the entity's URL"
    if probe_works and _was_read(control):  # atime updates on this filesystem
        assert not _was_read(marker), "the parser read the entity's file"


def test_an_entity_at_a_closed_port_is_refused_at_once():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    raw = _hostile(Path("/etc/hostname"), closed)

    started = time.monotonic()
    with pytest.raises(MessageHostile):
        parse_outbound_message(raw)

    assert time.monotonic() - started < 0.5


# --- size, depth, shape ---------------------------------------------------------------------


def test_a_10_mb_body_is_refused_before_any_parsing(monkeypatch, invoice_xml):
    def no_parsing(*args, **kwargs):
        raise AssertionError("the parser ran on an oversized body")

    monkeypatch.setattr(outbound_messages.etree, "iterparse", no_parsing)
    padding = b"<!--" + b"x" * (10 * 1024 * 1024) + b"-->"
    raw = invoice_xml.replace(b"<soapenv:Body>", b"<soapenv:Body>" + padding)

    with pytest.raises(MessageTooLarge) as refused:
        parse_outbound_message(raw)

    assert refused.value.status == 413 and refused.value.code == "message_too_large"
    assert "at most 4194304" in refused.value.message


def _with_field(invoice_xml: bytes, inner: bytes) -> bytes:
    return invoice_xml.replace(
        b"<sf:Name>INV-104233</sf:Name>", b"<sf:Name>INV-104233</sf:Name>" + inner, 1
    )


@pytest.mark.parametrize("depth", [MAX_DEPTH, 5000])
def test_deep_nesting_is_refused(invoice_xml, depth):
    inner = b"<a>" * depth + b"x" + b"</a>" * depth

    with pytest.raises(MessageHostile) as refused:
        parse_outbound_message(_with_field(invoice_xml, inner))

    assert f"deeper than {MAX_DEPTH} levels" in refused.value.message


def test_a_field_holding_elements_is_malformed(invoice_xml):
    with pytest.raises(MessageMalformed) as refused:
        parse_outbound_message(_with_field(invoice_xml, b"<sf:Extra><sf:x>1</sf:x></sf:Extra>"))

    assert "field Extra holds elements" in refused.value.message


def _notifications(count: int) -> bytes:
    one = (
        "<Notification><Id>04l5e00000HcA{n:04d}</Id>"
        '<sObject xsi:type="sf:rtms__Load__c" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        "<sf:Id>a0j5e00000F{n:04d}AAJ</sf:Id></sObject></Notification>"
    )
    body = "".join(one.format(n=n) for n in range(count))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>00D5e000000KqTzEAK</OrganizationId>{body}"
        "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def test_100_notifications_parse_and_101_are_refused():
    assert len(parse_outbound_message(_notifications(100)).notifications) == 100

    with pytest.raises(MessageMalformed) as refused:
        parse_outbound_message(_notifications(101))

    assert "holds 101 notifications; at most 100 are allowed" in refused.value.message


@pytest.mark.parametrize(
    "raw,reason",
    [
        (b"<foo/>", "The root element is foo, not a SOAP 1.1 Envelope."),
        (
            b'<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body/></Envelope>',
            "not a SOAP 1.1 Envelope",
        ),
        (
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
            b"<notifications/></e:Body></e:Envelope>",
            "The SOAP Body holds notifications, not an Outbound Message",
        ),
        (b"", "The message is empty."),
        (b"not xml at all", "not well-formed XML"),
        (b'<?xml version="1.0" encoding="UTF-16"?><a/>', "declares b'UTF-16'"),
        (b"\xff\xfe<\x00a\x00/\x00>\x00", "Only UTF-8 messages are accepted."),
    ],
    ids=["foo", "soap12", "no-namespace", "empty", "text", "utf16-declared", "utf16-bom"],
)
def test_what_is_not_an_outbound_message_is_malformed(raw, reason):
    with pytest.raises(MessageMalformed) as refused:
        parse_outbound_message(raw)

    assert reason in refused.value.message


def test_a_message_without_its_org_id_or_notifications_is_malformed(invoice_xml):
    without_org = invoice_xml.replace(b"<OrganizationId>00D5e000000KqTzEAK</OrganizationId>", b"")
    with pytest.raises(MessageMalformed, match="no OrganizationId"):
        parse_outbound_message(without_org)
    with pytest.raises(MessageMalformed, match="no Notification"):
        parse_outbound_message(_notifications(0))


def test_any_namespace_prefix_and_default_namespaces_parse_the_same(invoice_xml):
    text = invoice_xml.decode()
    renamed = (
        text.replace("soapenv:", "S:")
        .replace("xmlns:soapenv=", "xmlns:S=")
        .replace("xsi:", "i:")
        .replace("xmlns:xsi=", "xmlns:i=")
        .replace("<notifications xmlns=", "<om:notifications xmlns:om=")
        .replace("</notifications>", "</om:notifications>")
        .replace('xmlns:sf="urn:sobject', 'xmlns="urn:sobject')
        .replace("<sf:", "<")
        .replace("</sf:", "</")
        .replace('i:type="sf:', 'i:type="q1:')
    )
    for tag in ("OrganizationId", "ActionId", "SessionId", "EnterpriseUrl", "PartnerUrl"):
        renamed = renamed.replace(f"<{tag}>", f"<om:{tag}>").replace(f"</{tag}>", f"</om:{tag}>")
    renamed = renamed.replace("<Notification>", "<om:Notification>").replace(
        "</Notification>", "</om:Notification>"
    )
    renamed = renamed.replace("<sObject ", "<om:sObject ").replace("</sObject>", "</om:sObject>")
    # inside om:Notification the Id is the outbound namespace's
    renamed = renamed.replace("<om:Notification>\n    <Id>", "<om:Notification>\n    <om:Id>")
    renamed = renamed.replace("AAV</Id>", "AAV</om:Id>")
    assert "soapenv" not in renamed and "sf:" not in renamed

    assert parse_outbound_message(renamed.encode()) == parse_outbound_message(invoice_xml)


def test_a_default_namespace_envelope_parses(load_xml):
    text = load_xml.decode().replace("soapenv:", "").replace("xmlns:soapenv=", "xmlns=")

    assert parse_outbound_message(text.encode()) == parse_outbound_message(load_xml)


# --- responses and org ids ----------------------------------------------------------------


def test_the_ack_is_the_fixture_byte_for_byte():
    assert ack_response() == fixture_bytes("salesforce_outbound_ack.xml")


def test_the_fault_is_the_fixture_byte_for_byte_and_escapes_its_reason():
    reason = "OrganizationId does not match the connection configured for this endpoint"

    assert fault_response(reason) == fixture_bytes("salesforce_outbound_fault_response.xml")
    assert b"<faultstring>a &lt;b&gt; &amp; c</faultstring>" in fault_response("a <b> & c")


def test_org_ids_match_in_15_and_18_character_forms():
    assert salesforce_id_18("00D5e000000KqTz") == "00D5e000000KqTzEAK"
    assert org_id_matches("00D5e000000KqTzEAK", "00D5e000000KqTzEAK")
    assert org_id_matches("00D5e000000KqTz", "00D5e000000KqTzEAK")
    assert org_id_matches("00D5e000000KqTzEAK", "00D5e000000KqTz")
    assert not org_id_matches("00D5e000000kqtz", "00D5e000000KqTzEAK")  # case matters in 15
    assert not org_id_matches("00D5e000000KqTzAAA", "00D5e000000KqTz")  # bad checksum
    assert not org_id_matches("00D5e000000KqTzEAK", "00D8c000004WbRfEAK")
    assert not org_id_matches("", "00D5e000000KqTzEAK")
    assert not org_id_matches("00D5e000000KqTzE", "00D5e000000KqTzEAK")
