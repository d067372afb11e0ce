"""Revenova TMS (the API-key credential) through the standard connector suite.

The key material is the sandbox's seeded integration user; a wrong password
is refused by its SOAP ``login`` with ``INVALID_LOGIN``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.revenova.sandbox.app import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
)
from connectors.salesforce.sandbox.platform import DEFAULT_ORG_ID
from connectors.sdk.contract import ConnectorContract
from connectors.sdk.testing import SandboxProcess

INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


class TestRevenovaContract(ConnectorContract):
    connector_key = "revenova"
    api_key = {
        "username": DEFAULT_USERNAME,
        "password": DEFAULT_PASSWORD,
        "security_token": DEFAULT_SECURITY_TOKEN,
        "org_id": DEFAULT_ORG_ID,
    }
    sample_metadata = {"instance_url": "https://demo-freight.my.salesforce.com"}
    # Revenova's is_expired needs INVALID_SESSION_ID in the body, not just a 401.
    expired_response = {"status": 401, "json": INVALID_SESSION}
    throttled_response = {
        "status": 403,
        "json": [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ],
    }
    refused_response = {
        "status": 404,
        "json": [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}],
    }
    refused_code = "NOT_FOUND"

    @pytest.fixture
    def sandbox(self, revenova: SandboxProcess) -> Iterator[SandboxProcess]:
        """The session's Revenova sandbox (tests/connectors/conftest.py)."""
        yield revenova
