"""Serializer pieces for APIs that take secrets: data goes in, only a mask comes out."""

from __future__ import annotations

from rest_framework import serializers

from vault import crypto
from vault.errors import SecretPayloadInvalid
from vault.models import Secret


class SecretDataField(serializers.JSONField):
    """Write-only JSON object of secret fields: accepted, validated, never serialized back."""

    def __init__(self, **kwargs) -> None:
        kwargs["write_only"] = True
        kwargs.setdefault("style", {"base_template": "textarea.html", "input_type": "password"})
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            crypto.payload_encode(value)
        except SecretPayloadInvalid as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value


class SecretSummarySerializer(serializers.ModelSerializer):
    """What an API may say about a secret: never its data, nonce or ciphertext."""

    mask = serializers.CharField(read_only=True)

    class Meta:
        model = Secret
        fields = [
            "id",
            "purpose",
            "mask",
            "field_count",
            "key_version",
            "created",
            "replaced",
            "rotated",
        ]
        read_only_fields = fields
