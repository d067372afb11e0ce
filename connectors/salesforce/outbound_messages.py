"""Salesforce Outbound Messages: a hardened parser, the acknowledgement, the fault, org ids.

Any Salesforce-based source (Revenova TMS is one, PROVIDERS.md R1-R3) receives
its records this way: a SOAP 1.1 ``notifications`` call (S12) of up to 100
``Notification`` elements, each an ``sObject`` whose ``xsi:type`` names the
object and whose children are its fields (S14). Messages are unsigned (S19):
the sender is recognised by ``OrganizationId`` (``org_id_matches``, S20-S21).

Hardening (pitfall 10; the fixtures ``bad_*.xml``), in the order applied:

1. a size cap (``MAX_MESSAGE_BYTES``) before any parsing → ``MessageTooLarge``;
2. UTF-8 (or ASCII) only, so the byte scan below sees every markup character;
3. any ``<!DOCTYPE`` or ``<!ENTITY`` → ``MessageHostile`` before the XML parser
   runs: Outbound Messages never carry a DTD, so none is ever read, no entity is
   ever expanded (billion laughs) and no external one is ever fetched (XXE);
4. lxml with ``load_dtd=False``, ``resolve_entities=False``, ``no_network=True``,
   ``huge_tree=False``, and a depth cap (``MAX_DEPTH``) checked while parsing;
5. the shape: a SOAP 1.1 ``Envelope/Body/notifications`` root, at most 100
   notifications, each with an ``Id`` and an ``sObject`` with an ``xsi:type``.

Namespaces are matched by URI, never by prefix: ``soapenv:``, ``s:`` or a
default namespace all parse the same.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from lxml import etree

from connectors.errors import MessageHostile, MessageMalformed, MessageTooLarge

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

#: 100 notifications of a few dozen fields stay far below this.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
#: Envelope/Body/notifications/Notification/sObject/field is 6 deep.
MAX_DEPTH = 16
#: ``Notification`` has maxOccurs 100 (S12).
MAX_NOTIFICATIONS = 100

_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=\s*[\"']([^\"']+)[\"']")
_ACCEPTED_ENCODINGS = {"utf-8", "utf8", "us-ascii", "ascii"}
_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")
_SALESFORCE_ID = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

_ENVELOPE_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    " <soapenv:Body>\n"
)
_ENVELOPE_CLOSE = " </soapenv:Body>\n</soapenv:Envelope>\n"
_ACK = (
    _ENVELOPE_OPEN
    + '  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">\n'
    + "   <Ack>true</Ack>\n"
    + "  </notificationsResponse>\n"
    + _ENVELOPE_CLOSE
).encode()


@dataclass(frozen=True)
class Notification:
    """One ``Notification``: its delivery id, the sObject's type and its fields.

    ``fields`` maps each field's API name to its text, or ``None`` for ``xsi:nil``.
    """

    notification_id: str
    object_type: str
    fields: Mapping[str, str | None]


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    action_id: str
    session_id: str | None
    enterprise_url: str | None
    partner_url: str | None
    notifications: tuple[Notification, ...] = field(default_factory=tuple)


# --- org ids ----------------------------------------------------------------------------------


def salesforce_id_18(id15: str) -> str:
    """The 18-character form: per 5-character chunk, a bitmask of its upper-case letters
    mapped into ``A-Z0-5`` (S21)."""
    if len(id15) != 15:
        raise ValueError("a 15-character Salesforce id is needed")
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, char in enumerate(id15[start : start + 5]) if char.isupper())
        suffix += _CHECKSUM_ALPHABET[bits]
    return id15 + suffix


def _well_formed_id(value: str) -> bool:
    if not _SALESFORCE_ID.fullmatch(value):
        return False
    return len(value) == 15 or salesforce_id_18(value[:15]) == value


def org_id_matches(a: str, b: str) -> bool:
    """Whether two org ids name the same org, in 15- or 18-character form (S20-S21).

    The first 15 characters identify, case-sensitively; an 18-character id must
    carry its own checksum suffix, so a mangled or re-cased copy never matches.
    """
    if not (a and b and _well_formed_id(a) and _well_formed_id(b)):
        return False
    return a[:15] == b[:15]


# --- responses --------------------------------------------------------------------------------


def ack_response() -> bytes:
    """The acknowledgement Salesforce waits for (S15): ``notificationsResponse/Ack = true``,
    one for every notification of the message. Send with HTTP 200, ``text/xml``."""
    return _ACK


def fault_response(reason: str, *, code: str = "soapenv:Client") -> bytes:
    """A SOAP fault refusing the message (S20): Salesforce keeps retrying it for 24 h (S16).

    ``reason`` is shown to the sender's admins: name the problem, never a secret.
    """
    body = (
        "  <soapenv:Fault>\n"
        f"   <faultcode>{escape(code)}</faultcode>\n"
        f"   <faultstring>{escape(reason)}</faultstring>\n"
        "   <detail/>\n"
        "  </soapenv:Fault>\n"
    )
    return (_ENVELOPE_OPEN + body + _ENVELOPE_CLOSE).encode()


# --- the parser -------------------------------------------------------------------------------


def _screen(raw: bytes, max_bytes: int) -> None:
    """Refusals decided on the bytes alone, before any XML parser sees them."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MessageMalformed("The message body must be bytes.")
    if len(raw) > max_bytes:
        raise MessageTooLarge(f"The message is {len(raw)} bytes; at most {max_bytes} are accepted.")
    if not raw.strip():
        raise MessageMalformed("The message is empty.")
    head = bytes(raw[:4])
    if any(head.startswith(bom) for bom in _OTHER_BOMS) or b"\x00" in head:
        raise MessageMalformed("Only UTF-8 messages are accepted.")
    declared = _DECLARED_ENCODING.match(bytes(raw[:200]).removeprefix(_UTF8_BOM))
    if declared and declared.group(1).decode("ascii", "replace").lower() not in (
        _ACCEPTED_ENCODINGS
    ):
        raise MessageMalformed(
            f"Only UTF-8 messages are accepted; this one declares {declared.group(1)!r}."
        )
    found = _DTD.search(raw)
    if found:
        raise MessageHostile(
            f"The message contains a document type declaration (<!{found.group(1).decode()}): "
            "DTDs and entities are never accepted in an Outbound Message."
        )


def _parse_tree(raw: bytes) -> etree._Element:
    events = etree.iterparse(
        io.BytesIO(bytes(raw)),
        events=("start", "end"),
        load_dtd=False,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        dtd_validation=False,
    )
    depth = 0
    root = None
    try:
        for event, element in events:
            if event == "start":
                depth += 1
                if root is None:
                    root = element
                if depth > MAX_DEPTH:
                    raise MessageHostile(
                        f"The message nests elements deeper than {MAX_DEPTH} levels."
                    )
            else:
                depth -= 1
    except etree.XMLSyntaxError as exc:
        raise MessageMalformed(f"The message is not well-formed XML: {exc}") from None
    if root is None:
        raise MessageMalformed("The message holds no XML element.")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # the byte scan caught it already
        raise MessageHostile("The message contains a document type declaration.")
    if next(root.iter(etree.Entity), None) is not None:
        raise MessageHostile("The message contains an entity reference.")
    return root


def _is(element: etree._Element, namespace: str, name: str) -> bool:
    return isinstance(element.tag, str) and element.tag == f"{{{namespace}}}{name}"


def _children(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _is_nil(element: etree._Element) -> bool:
    return (element.get(f"{{{XSI}}}nil") or "").strip().lower() in ("true", "1")


def _text(element: etree._Element | None) -> str | None:
    if element is None or _is_nil(element):
        return None
    return (element.text or "").strip()


def _notification(element: etree._Element, position: int) -> Notification:
    where = f"Notification {position}"
    by_name = {etree.QName(child).localname: child for child in _children(element)}
    notification_id = _text(by_name.get("Id"))
    if not notification_id:
        raise MessageMalformed(f"{where} has no Id.")
    sobject = by_name.get("sObject")
    if sobject is None:
        raise MessageMalformed(f"{where} ({notification_id}) has no sObject.")
    declared = (sobject.get(f"{{{XSI}}}type") or "").strip()
    object_type = declared.rpartition(":")[2]
    if not object_type:
        raise MessageMalformed(f"{where} ({notification_id}): the sObject has no xsi:type.")
    fields: dict[str, str | None] = {}
    for child in _children(sobject):
        name = etree.QName(child).localname
        if name in fields:
            raise MessageMalformed(f"{where} ({notification_id}): field {name} appears twice.")
        if _children(child):
            raise MessageMalformed(
                f"{where} ({notification_id}): field {name} holds elements, not a value."
            )
        fields[name] = _text(child)
    return Notification(notification_id=notification_id, object_type=object_type, fields=fields)


def parse_outbound_message(raw: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> OutboundMessage:
    """Parse one Outbound Message, or refuse it with ``MessageTooLarge`` (413),
    ``MessageHostile`` or ``MessageMalformed`` (400) and a reason a person can read."""
    _screen(raw, max_bytes)
    root = _parse_tree(raw)
    if not _is(root, SOAP_ENV, "Envelope"):
        raise MessageMalformed(
            f"The root element is {etree.QName(root).text}, not a SOAP 1.1 Envelope."
        )
    body = next((child for child in _children(root) if _is(child, SOAP_ENV, "Body")), None)
    if body is None:
        raise MessageMalformed("The SOAP envelope has no Body.")
    call = next(iter(_children(body)), None)
    if call is None or not _is(call, OUTBOUND_NS, "notifications"):
        found = etree.QName(call).text if call is not None else "nothing"
        raise MessageMalformed(
            f"The SOAP Body holds {found}, not an Outbound Message "
            f"({{{OUTBOUND_NS}}}notifications)."
        )
    header: dict[str, etree._Element] = {}
    notifications: list[etree._Element] = []
    for child in _children(call):
        if etree.QName(child).namespace != OUTBOUND_NS:
            continue
        name = etree.QName(child).localname
        if name == "Notification":
            notifications.append(child)
        else:
            header.setdefault(name, child)
    organization_id = _text(header.get("OrganizationId"))
    if not organization_id:
        raise MessageMalformed("The message has no OrganizationId.")
    if not notifications:
        raise MessageMalformed("The message holds no Notification.")
    if len(notifications) > MAX_NOTIFICATIONS:
        raise MessageMalformed(
            f"The message holds {len(notifications)} notifications; "
            f"at most {MAX_NOTIFICATIONS} are allowed."
        )
    return OutboundMessage(
        organization_id=organization_id,
        action_id=_text(header.get("ActionId")) or "",
        session_id=_text(header.get("SessionId")) or None,
        enterprise_url=_text(header.get("EnterpriseUrl")) or None,
        partner_url=_text(header.get("PartnerUrl")) or None,
        notifications=tuple(
            _notification(element, position)
            for position, element in enumerate(notifications, start=1)
        ),
    )
