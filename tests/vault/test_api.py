"""API building blocks: secret data is write-only, a summary shows only the mask."""

from __future__ import annotations

from django_tenants.utils import schema_context
from rest_framework import serializers

from vault.api import SecretDataField, SecretSummarySerializer
from vault.services import secret_seal


class ConnectionInput(serializers.Serializer):
    name = serializers.CharField()
    credentials = SecretDataField()


def test_secret_data_is_accepted_but_never_serialized_back():
    serializer = ConnectionInput(
        data={"name": "QuickBooks", "credentials": {"api_key": "sk_live_api_0123456789"}}
    )

    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["credentials"] == {"api_key": "sk_live_api_0123456789"}
    assert serializer.data == {"name": "QuickBooks"}


def test_secret_data_must_be_a_json_object():
    serializer = ConnectionInput(data={"name": "x", "credentials": ["sk_live_api_0123456789"]})

    assert not serializer.is_valid()
    message = str(serializer.errors["credentials"][0])
    assert message.startswith("A secret holds a JSON object")
    assert "sk_live" not in message


def test_a_summary_shows_the_mask_and_nothing_sealed(tenant_a):
    with schema_context(tenant_a.schema_name):
        secret = secret_seal(data={"api_key": "sk_live_api_0123456789"}, purpose="acme.api_key")

    data = SecretSummarySerializer(secret).data

    assert set(data) == {
        "id", "purpose", "mask", "field_count", "key_version", "created", "replaced", "rotated",
    }  # fmt: skip
    assert data["mask"] == "•••• (1 field, key v1)"
    assert "sk_live" not in str(data)
