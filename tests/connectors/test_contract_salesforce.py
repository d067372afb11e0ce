"""Salesforce through the standard connector suite (``ConnectorContract``).

Error bodies are Salesforce's REST shape, a list of ``{"errorCode", "message"}``
(``../shared/fixtures/salesforce_401_invalid_session.json`` for the 401).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.sdk.contract import ConnectorContract
from connectors.sdk.testing import SandboxProcess

INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


class TestSalesforceContract(ConnectorContract):
    connector_key = "salesforce"
    sample_metadata = {
        "instance_url": "https://acme.my.salesforce.com",
        "id": "https://login.salesforce.com/id/00D5e000000KqTzEAK/0055e000007HtInAAK",
    }
    expired_response = {"status": 401, "json": INVALID_SESSION}
    throttled_response = {
        "status": 403,
        "json": [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ],
    }
    server_error_response = {
        "status": 503,
        "json": [{"message": "Server temporarily unavailable", "errorCode": "SERVER_UNAVAILABLE"}],
    }
    refused_response = {
        "status": 400,
        "json": [{"message": "unexpected token: FROMM", "errorCode": "MALFORMED_QUERY"}],
    }
    refused_code = "MALFORMED_QUERY"

    @pytest.fixture
    def sandbox(self, sf: SandboxProcess) -> Iterator[SandboxProcess]:
        """The session's Salesforce sandbox (tests/connectors/conftest.py)."""
        yield sf
