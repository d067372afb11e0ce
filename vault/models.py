"""Secrets and the audit of their reads; both live in the tenant's schema.

Write them through ``vault.services`` only: a Secret's bytes are meaningless
without the keyring, and its id and purpose are part of what its ciphertext
is bound to.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Secret(models.Model):
    # Generated before the first save: the id is sealed into the ciphertext.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    purpose = models.CharField(
        max_length=100, help_text="What the secret is for, e.g. quickbooks.oauth2."
    )
    key_version = models.PositiveIntegerField(db_index=True, editable=False)
    nonce = models.BinaryField(max_length=12, editable=False)
    ciphertext = models.BinaryField(editable=False)
    # Shown in the mask; counting fields must not need a decryption.
    field_count = models.PositiveSmallIntegerField(default=0, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    replaced = models.DateTimeField(null=True, blank=True, editable=False)
    rotated = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.purpose} {self.mask}"

    @property
    def mask(self) -> str:
        fields = "field" if self.field_count == 1 else "fields"
        return f"•••• ({self.field_count} {fields}, key v{self.key_version})"


class SecretRead(models.Model):
    """One reveal: which secret, who or what, why, when. Append-only."""

    class ActorKind(models.TextChoices):
        USER = "user", "User"
        TASK = "task", "Celery task"
        PROCESS = "process", "Process"

    # The reference survives the secret's deletion; the row stays.
    secret = models.ForeignKey(
        Secret, null=True, blank=True, on_delete=models.SET_NULL, related_name="reads"
    )
    secret_ref = models.UUIDField("secret id", db_index=True)
    purpose = models.CharField(max_length=100)
    actor_kind = models.CharField("by", max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField("who", max_length=200)
    reason = models.CharField(max_length=255)
    created = models.DateTimeField("when", default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "secret read"

    def __str__(self) -> str:
        return f"{self.purpose} read by {self.actor_label} at {self.created:%Y-%m-%d %H:%M:%S}"
