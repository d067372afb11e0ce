"""The SOAP ``login()`` call of Salesforce's partner (``/u/``) and enterprise (``/c/``) APIs,
as Revenova's Web Services Guide uses it (R3): username, and the password with the
security token appended; optionally a ``LoginScopeHeader`` naming the org.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NAMESPACES = {"u": "urn:partner.soap.sforce.com", "c": "urn:enterprise.soap.sforce.com"}
MAX_BODY = 64 * 1024
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)

INVALID_LOGIN = "Invalid username, password, security token; or user locked out."


class SoapError(ValueError):
    """The request is not a login envelope the sandbox can read."""


@dataclass(slots=True)
class LoginRequest:
    username: str
    password: str
    organization_id: str | None  # from LoginScopeHeader, when sent


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_login(raw: bytes) -> LoginRequest:
    if len(raw) > MAX_BODY:
        raise SoapError("request too large")
    if _DTD.search(raw):
        raise SoapError("DTDs are not allowed")  # PROVIDERS.md pitfall 10
    try:
        root = ET.fromstring(raw)  # noqa: S314 - no DTD, so no entity expansion
    except ET.ParseError as exc:
        raise SoapError(f"malformed XML: {exc}") from None
    found: dict[str, str] = {}
    for element in root.iter():
        name = _local(element.tag)
        if name in {"login", "username", "password", "organizationId"}:
            found[name] = "" if name == "login" else (element.text or "").strip()
    if "login" not in found or "username" not in found or "password" not in found:
        raise SoapError("expected a login call with username and password")
    return LoginRequest(found["username"], found["password"], found.get("organizationId"))


def envelope(body: str, *, namespace: str | None = None) -> str:
    default_ns = f' xmlns="{namespace}"' if namespace else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"{default_ns} '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )


def login_fault(code: str, message: str, *, kind: str = "u") -> str:
    """A login fault as Salesforce sends it (HTTP 500), e.g. ``sf:INVALID_LOGIN``."""
    fault_ns = (
        "urn:fault.partner.soap.sforce.com"
        if kind == "u"
        else "urn:fault.enterprise.soap.sforce.com"
    )
    return envelope(
        f'<soapenv:Fault xmlns:sf="{fault_ns}"><faultcode>sf:{code}</faultcode>'
        f"<faultstring>{escape(code)}: {escape(message)}</faultstring>"
        f'<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{escape(code)}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault>"
    )


def client_fault(message: str) -> str:
    return envelope(
        "<soapenv:Fault><faultcode>soapenv:Client</faultcode>"
        f"<faultstring>{escape(message)}</faultstring></soapenv:Fault>"
    )


def login_response(
    *,
    kind: str,
    version: str,
    base_url: str,
    session_id: str,
    session_seconds: int,
    user_id: str,
    org_id: str,
    org_name: str,
    username: str,
    full_name: str,
) -> str:
    values = {
        "metadataServerUrl": f"{base_url}/services/Soap/m/{version}/{org_id[:15]}",
        "passwordExpired": "false",
        "sandbox": "false",
        "serverUrl": f"{base_url}/services/Soap/{kind}/{version}/{org_id[:15]}",
        "sessionId": session_id,
        "userId": user_id,
    }
    info = {
        "currencySymbol": "$",
        "orgDefaultCurrencyIsoCode": "USD",
        "organizationId": org_id,
        "organizationMultiCurrency": "true",
        "organizationName": org_name,
        "sessionSecondsValid": str(session_seconds),
        "userEmail": username,
        "userFullName": full_name,
        "userId": user_id,
        "userLanguage": "en_US",
        "userLocale": "en_US",
        "userName": username,
        "userTimeZone": "America/Los_Angeles",
        "userType": "PowerPartner",  # an API-only Partner Community user (R3)
    }
    result = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in values.items())
    user_info = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in info.items())
    body = (
        f"<loginResponse><result>{result}<userInfo>{user_info}</userInfo></result></loginResponse>"
    )
    return envelope(body, namespace=NAMESPACES[kind])
