"""QuickBooks Online v3: every call carries ``minorversion``; faults come in two casings and XML."""

from __future__ import annotations

from typing import Any, ClassVar

import requests
from lxml import etree

from connectors.sdk import Client

#: Minor versions below 75 lost support on 1 Aug 2025 (PROVIDERS.md Q21).
MINOR_VERSION = "75"
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class QuickBooksClient(Client):
    #: Intuit documents no Retry-After; it advises waiting 60 s (Q25).
    default_retry_after: ClassVar[float | None] = 60.0

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        params = dict(kwargs.pop("params", None) or {})
        params.setdefault("minorversion", MINOR_VERSION)
        headers = {"Accept": "application/json", **(kwargs.pop("headers", None) or {})}
        return super().request(method, path, params=params, headers=headers, **kwargs)

    def is_throttled(self, response: requests.Response) -> bool:
        # Before 2016 throttling came back as 403 with code 3001 (Q28).
        if response.status_code == 429:
            return True
        return response.status_code == 403 and fault_of(response)[0] == "3001"

    def describe_error(self, response: requests.Response) -> tuple[str, str]:
        code, detail = fault_of(response)
        return code or str(response.status_code), detail


def fault_of(response: requests.Response) -> tuple[str, str]:
    """(code, detail) of a fault: ``Fault.Error[]``, ``fault.error[]`` or XML (Q29-Q32)."""
    try:
        body = response.json()
    except ValueError:
        return _xml_fault(response.content)
    fault = body.get("Fault") or body.get("fault") if isinstance(body, dict) else None
    if not isinstance(fault, dict):
        return "", response.text[:300]
    errors = fault.get("Error") or fault.get("error") or []
    if not errors or not isinstance(errors, list):
        return "", str(fault.get("type", ""))
    first = errors[0] if isinstance(errors[0], dict) else {}
    code = str(first.get("code", ""))
    parts = [
        str(error.get("Detail") or error.get("detail") or error.get("Message") or "")
        for error in errors
        if isinstance(error, dict)
    ]
    element = first.get("element")
    detail = "; ".join(part for part in parts if part)
    if element and element not in detail:
        detail = f"{detail} (at {element})"
    return code, detail[:500]


def _xml_fault(content: bytes) -> tuple[str, str]:
    try:
        root = etree.fromstring(content, _XML_PARSER)
    except etree.XMLSyntaxError:
        return "", content[:300].decode(errors="replace")
    error = next((el for el in root.iter() if etree.QName(el).localname == "Error"), None)
    if error is None:
        return "", ""
    texts = {etree.QName(child).localname: (child.text or "") for child in error}
    return error.get("code", ""), texts.get("Detail") or texts.get("Message", "")
