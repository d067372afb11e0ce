"""Revenova TMS: a Salesforce managed package (namespace ``rtms``) reached as an integration user.

The API-key credential: username, password, security token, org id and
environment are exchanged for a session by the SOAP ``login`` call
(``pre_authenticate``), re-exchanged when the session expires
(401 INVALID_SESSION_ID), and the org id is what authenticates Revenova's
outbound messages in the pipeline. A tenant may instead connect Revenova
through the Salesforce OAuth connector.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar
from xml.sax.saxutils import escape

import requests
from lxml import etree

from connectors.errors import NeedsReauth, Permanent, Transient
from connectors.revenova.normalization import RevenovaMapper
from connectors.revenova.replica import RevenovaReplicaParser
from connectors.salesforce.connector import (
    API_VERSION,
    SalesforceClient,
    limits_check,
    salesforce_environments,
)
from connectors.salesforce.inbound import OutboundMessageInbound
from connectors.salesforce.outbound_messages import org_id_matches
from connectors.sdk import ApiKey, AppCredentials, Client, Connector, Field

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_LOGIN_ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:urn="urn:partner.soap.sforce.com"><env:Body><urn:login>'
    "<urn:username>{username}</urn:username><urn:password>{password}</urn:password>"
    "</urn:login></env:Body></env:Envelope>"
)


class RevenovaLogin(ApiKey):
    fields = (
        Field("username", "Integration user", example="integration@acme-freight.example"),
        Field("password", "Password", secret=True),
        Field(
            "security_token",
            "Security token",
            secret=True,
            help="Reset it from the user's settings in Salesforce; it is emailed to the user.",
        ),
        Field(
            "org_id",
            "Organization id",
            example="00D5e000000KqTzEAK",
            help="Setup → Company Information; 15 or 18 characters.",
        ),
    )
    session_fields = ("session_id",)
    timeout: ClassVar[float] = 20.0

    def pre_authenticate(
        self, *, http: requests.Session, urls: Mapping[str, str], secrets: Mapping[str, Any]
    ) -> dict[str, Any]:
        envelope = _LOGIN_ENVELOPE.format(
            username=escape(secrets["username"]),
            password=escape(secrets["password"] + secrets.get("security_token", "")),
        )
        try:
            response = http.post(
                urls["login"],
                data=envelope.encode(),
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "login"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise Transient("Revenova's login endpoint could not be reached.") from exc
        if response.status_code >= 500 and b"INVALID_LOGIN" not in response.content:
            raise Transient(f"Revenova's login failed with HTTP {response.status_code}.")
        values = _soap_values(response.content)
        if "faultcode" in values or response.status_code != 200:
            fault = (
                values.get("faultstring") or values.get("faultcode") or str(response.status_code)
            )
            raise NeedsReauth(f"Revenova refused the integration user's login: {fault}")
        org_id = values.get("organizationId", "")
        if not org_id_matches(org_id, secrets.get("org_id", "")):
            raise Permanent(
                "The integration user belongs to another Salesforce org than the one entered.",
                provider_code="org_mismatch",
            )
        server_url = values.get("serverUrl", "")
        instance_url = server_url.split("/services/")[0] if server_url else ""
        return {
            "session_id": values.get("sessionId", ""),
            "instance_url": instance_url,
            "org_id": org_id,
        }

    def authenticate(self, session: requests.Session, secrets: Mapping[str, Any]) -> None:
        session.headers["Authorization"] = f"Bearer {secrets['session_id']}"

    def is_expired(self, response: requests.Response) -> bool:
        return response.status_code == 401 and "INVALID_SESSION_ID" in response.text


def _soap_values(content: bytes) -> dict[str, str]:
    try:
        root = etree.fromstring(content, _XML_PARSER)
    except etree.XMLSyntaxError:
        return {"faultstring": "the login answer is not XML"}
    return {
        etree.QName(element).localname: (element.text or "").strip()
        for element in root.iter()
        if isinstance(element.tag, str) and len(element) == 0
    }


def _login_urls(login_host: str) -> dict[str, str]:
    return {
        "login": f"{login_host}/services/Soap/u/{API_VERSION.lstrip('v')}",
        "api": "{instance_url}/services/data/" + API_VERSION,
    }


class Revenova(Connector):
    key = "revenova"
    name = "Revenova TMS"
    description = "Loads, customer invoices and carrier invoices of Revenova TMS (rtms package)."
    credential = RevenovaLogin()
    client_class: ClassVar[type[Client]] = SalesforceClient
    environments = salesforce_environments(_login_urls)
    sandbox_module = "connectors.revenova.sandbox"
    sandbox_port = 9503
    local_app: ClassVar[AppCredentials | None] = None
    #: Its Outbound Messages (Layer 2) and their canonical records (Layer 3).
    fixtures_dir: ClassVar[Path | None] = Path(__file__).resolve().parent / "fixtures"
    parser: ClassVar[Any] = RevenovaReplicaParser()
    mapper: ClassVar[Any] = RevenovaMapper()
    #: Layer 1: Outbound Messages, recognised by the org id they carry (S19-S21).
    inbound: ClassVar[Any] = OutboundMessageInbound()

    def test(self, client: Client) -> dict[str, Any]:
        return limits_check(client)
