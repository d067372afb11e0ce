"""The pipeline's state, in the tenant's schema: one table per layer's output.

InboundMessage (L1, raw bytes as received) → ReplicaRecord (L2, one per
source record, newest version wins) → CanonicalRecord (L3) → Delivery (L4/L5,
one per record and route, with the target's id once delivered). Routes say
where records go; HookTokens open the ingest URL; CrossReferences remember
which target id a source id became.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Route(models.Model):
    """Records of one type from a source connection go to a target connection."""

    class ObjectType(models.TextChoices):
        INVOICE = "invoice", "Customer invoice"

    name = models.CharField(max_length=100)
    object_type = models.CharField(
        max_length=30, choices=ObjectType.choices, default=ObjectType.INVOICE
    )
    source = models.ForeignKey(
        "connectors.Connection", on_delete=models.PROTECT, related_name="routes_out"
    )
    target = models.ForeignKey(
        "connectors.Connection", on_delete=models.PROTECT, related_name="routes_in"
    )
    enabled = models.BooleanField(default=True)
    #: What the target needs: {"items": {"line_haul": "21", ...}, "tax_code": "...",
    #: "terms": "..."} for QuickBooks.
    mapping = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["name"], name="route_name_unique")]
        indexes = [models.Index(fields=["source", "object_type", "enabled"])]

    def __str__(self) -> str:
        return self.name


class HookToken(models.Model):
    """The secret part of a connection's ingest URL; only its SHA-256 is stored."""

    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.CASCADE, related_name="hook_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"hook {self.prefix}… of connection {self.connection_id}"


class InboundMessage(models.Model):
    """A raw message exactly as received (L1), committed before it was acknowledged."""

    class Status(models.TextChoices):
        STORED = "stored", "Stored, waiting for L2"
        PARSED = "parsed", "Parsed"
        FAILED = "failed", "Could not be parsed"

    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.PROTECT, related_name="messages"
    )
    received_at = models.DateTimeField(default=timezone.now)
    content_type = models.CharField(max_length=100)
    body = models.BinaryField(null=True, blank=True)
    body_size = models.PositiveIntegerField(default=0)
    #: The sender's delivery ids (Outbound Message notification ids), sorted and hashed:
    #: a re-sent message collapses onto the first.
    dedupe_key = models.CharField(max_length=64)
    notification_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STORED)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    #: Pruned after the tenant's retention; the history keeps the summary.
    pruned_at = models.DateTimeField(null=True, blank=True)
    #: Minted here (L1); each layer carries it into its history rows, logs and the target's
    #: request headers (nexiom.correlation).
    correlation_id = models.CharField(max_length=36, blank=True, default="")

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "dedupe_key"], name="inbound_message_dedupe"
            )
        ]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"message {self.pk} from connection {self.connection_id}"


class ReplicaRecord(models.Model):
    """One source record as the source holds it (L2); the newest version wins."""

    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.PROTECT, related_name="+"
    )
    object_type = models.CharField(max_length=100)
    external_id = models.CharField(max_length=64)
    source_version = models.CharField(max_length=64, blank=True)
    notification_id = models.CharField(max_length=64, blank=True)
    message = models.ForeignKey(
        InboundMessage, null=True, on_delete=models.SET_NULL, related_name="records"
    )
    data = models.JSONField(default=dict)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "object_type", "external_id"], name="replica_identity"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.external_id}"


class CanonicalRecord(models.Model):
    """The replica in the platform's language (L3): an Invoice, a Customer, ..."""

    class Status(models.TextChoices):
        VALID = "valid", "Valid"
        INVALID = "invalid", "Invalid (see error)"

    replica = models.OneToOneField(
        ReplicaRecord, on_delete=models.CASCADE, related_name="canonical"
    )
    kind = models.CharField(max_length=30)
    schema_version = models.PositiveIntegerField(default=1)
    source_version = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.VALID)
    error = models.TextField(blank=True)
    #: The version L4 last routed; behind ``source_version`` means L4 still owes it.
    routed_version = models.CharField(max_length=64, blank=True)
    updated = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind} from replica {self.replica_id}"


class Delivery(models.Model):
    """One canonical record sent along one route (L4 builds it, L5 delivers it)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        RETRYING = "retrying", "Failed, will retry"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead letter"

    canonical = models.ForeignKey(
        CanonicalRecord, on_delete=models.CASCADE, related_name="deliveries"
    )
    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    #: The source version this delivery must bring to the target.
    source_version = models.CharField(max_length=64, blank=True)
    #: The version the target holds (delivered); equal → nothing to do.
    delivered_version = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    #: A worker delivering it holds it until then; a worker that died lets it go.
    claimed_until = models.DateTimeField(null=True, blank=True)
    #: The idempotency key of the create (QuickBooks requestid), fixed per source version.
    request_id = models.CharField(max_length=50, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_reference = models.CharField(max_length=64, blank=True, help_text="e.g. DocNumber")
    target_version = models.CharField(max_length=32, blank=True, help_text="e.g. SyncToken")
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error_code = models.CharField(max_length=50, blank=True)
    last_error = models.TextField(blank=True)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["canonical", "route"], name="delivery_identity")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"


class CrossReference(models.Model):
    """Which target id a source id became (customers, invoices), per target connection."""

    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.CASCADE, related_name="+"
    )
    object_type = models.CharField(max_length=30)
    source_id = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "object_type", "source_id"], name="xref_identity"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.source_id} → {self.target_id}"
