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
    """One reveal, or one attempt that failed: which secret, who or what, why, when, outcome.

    Append-only, and written on the vault's own autocommit connection
    (``vault.audit``), so it stays even when the caller's transaction rolls
    back. For the same reason the foreign keys have no database constraint:
    that connection cannot see a secret or user the caller created in its
    still-open transaction. The row names the secret and the actor by value
    (``secret_ref``, ``purpose``, ``actor_label``) anyway.
    """

    class ActorKind(models.TextChoices):
        USER = "user", "User"
        TASK = "task", "Celery task"
        PROCESS = "process", "Process"

    class Outcome(models.TextChoices):
        REVEALED = "revealed", "Revealed"
        FAILED = "failed", "Failed"

    # The reference survives the secret's deletion; the row stays.
    secret = models.ForeignKey(
        Secret,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reads",
        db_constraint=False,
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
        db_constraint=False,
    )
    actor_label = models.CharField("who", max_length=200)
    reason = models.CharField(max_length=255)
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.REVEALED, db_index=True
    )
    #: Why a failed attempt failed: the error's code and message (never plaintext).
    failure = models.TextField(blank=True, default="")
    created = models.DateTimeField("when", default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "secret read"

    def __str__(self) -> str:
        verb = "read" if self.outcome == self.Outcome.REVEALED else "failed to open"
        return f"{self.purpose} {verb} by {self.actor_label} at {self.created:%Y-%m-%d %H:%M:%S}"
