"""QuickBooks Online through the standard connector suite (``ConnectorContract``).

The error bodies are Intuit's own, recorded in ``../shared/fixtures/``: a 401
``AuthenticationFailed`` (``qbo_fault_401.json``), the XML ``ThrottleExceeded``
429 (``qbo_throttle_429.txt``) and a 400 ``ValidationFault``
(``qbo_fault_validation_400.json``, code 2500); they are inlined so a clean
clone needs nothing outside the repository.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.errors import Permanent
from connectors.sdk.contract import ConnectorContract
from connectors.sdk.testing import SandboxProcess, StrictHTTPMock

QBO_401 = {
    "warnings": None,
    "fault": {
        "error": [
            {
                "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                "detail": None,
                "code": "3200",
                "element": None,
            }
        ],
        "type": "AUTHENTICATION",
    },
    "time": 1741968134512,
}
QBO_429_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<IntuitResponse time="2025-03-14T09:02:15.933-07:00" '
    'xmlns="http://schema.intuit.com/finance/v3"><Fault type="SERVICE">'
    '<Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; statusCode=429'
    "</Message><Detail>The request limit was reached.  Try again later</Detail></Error>"
    "</Fault></IntuitResponse>"
)
QBO_400_INVALID_REFERENCE = {
    "Fault": {
        "Error": [
            {
                "Message": "Invalid Reference Id",
                "Detail": "Invalid Reference Id : Line.SalesItemLineDetail.ItemRef",
                "code": "2500",
                "element": "Line.SalesItemLineDetail.ItemRef",
            }
        ],
        "type": "ValidationFault",
    },
    "time": "2025-03-14T09:02:14.512-07:00",
}


class TestQuickBooksContract(ConnectorContract):
    connector_key = "quickbooks"
    sample_metadata = {"realmId": "9341453051506391"}
    expired_response = {"status": 401, "json": QBO_401}
    throttled_response = {"status": 429, "body": QBO_429_XML, "content_type": "application/xml"}
    server_error_response = {
        "status": 500,
        "json": {"Fault": {"Error": [{"Message": "An application error has occurred"}]}},
    }
    refused_response = {"status": 400, "json": QBO_400_INVALID_REFERENCE}
    refused_code = "2500"

    @pytest.fixture
    def sandbox(self, qbo: SandboxProcess) -> Iterator[SandboxProcess]:
        """The session's QuickBooks sandbox (tests/connectors/conftest.py)."""
        yield qbo

    def test_a_duplicate_name_is_permanent_with_code_6240(self, connector) -> None:
        client, url = self._mocked_client(connector)
        duplicate = {
            "Fault": {
                "Error": [
                    {
                        "Message": "Duplicate Name Exists Error",
                        "Detail": "The name supplied already exists. : Id=58",
                        "code": "6240",
                    }
                ],
                "type": "ValidationFault",
            }
        }

        with StrictHTTPMock() as mock:
            mock.add("POST", url, status=400, json=duplicate)
            with pytest.raises(Permanent) as refused:
                client.post(self.probe_path, json={"DisplayName": "Acme"})

        assert refused.value.provider_code == "6240"
        assert "already exists" in refused.value.detail
        assert "minorversion=75" in mock.calls[0].request.url
