"""Every vault error is a domain error with a stable code and the status it means."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from nexiom.errors import DomainError
from vault import errors


@pytest.mark.parametrize(
    "error, code, status",
    [
        (errors.VaultError, "vault_error", 400),
        (errors.VaultMisconfigured, "vault_misconfigured", 503),
        (errors.KeyVersionUnknown, "key_version_unknown", 409),
        (errors.SecretTampered, "secret_tampered", 409),
        (errors.SecretPayloadInvalid, "secret_payload_invalid", 400),
        (errors.RevealRefused, "reveal_refused", 403),
        (errors.TenantRequired, "tenant_required", 400),
        (errors.PlaintextInTaskMessage, "plaintext_in_task_message", 400),
    ],
)
def test_each_vault_error_has_its_code_and_status(error, code, status):
    raised = error("secret 1 (purpose p) in schema alpha: why")

    assert isinstance(raised, DomainError)
    assert (raised.code, raised.status) == (code, status)
    assert raised.as_body() == {
        "error": {
            "code": code,
            "message": "secret 1 (purpose p) in schema alpha: why",
            "fields": {},
        }
    }


def test_misconfigured_is_still_improperly_configured_and_payload_invalid_a_value_error():
    assert issubclass(errors.VaultMisconfigured, ImproperlyConfigured)
    assert issubclass(errors.SecretPayloadInvalid, ValueError)
