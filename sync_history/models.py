"""One row per step of the pipeline: which message or record, which layer, what happened.

Rows are appended, never updated, so a record's lineage reads as its events
in order. The pipeline's own tables hold the current state (the raw message,
the replica, the canonical record, the delivery); these rows hold how each
got there, with errors and retry times, and stay after raw payloads are
pruned.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Layer(models.TextChoices):
    GATEWAY = "gateway", "L1 gateway"
    REPLICA = "replica", "L2 replica"
    NORMALIZE = "normalize", "L3 normalize"
    OUTBOUND = "outbound", "L4 outbound"
    DELIVERY = "delivery", "L5 delivery"


class EventStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    SUCCEEDED = "succeeded", "Succeeded"
    SKIPPED = "skipped", "Skipped (nothing to do)"
    RETRYING = "retrying", "Failed, will retry"
    FAILED = "failed", "Failed"
    DEAD = "dead", "Dead letter"
    REFUSED = "refused", "Refused (security)"
    REPLAY = "replay", "Replay requested"


class SyncEvent(models.Model):
    Layer = Layer
    Status = EventStatus

    created = models.DateTimeField(default=timezone.now)
    layer = models.CharField(max_length=16, choices=Layer.choices)
    status = models.CharField(max_length=16, choices=EventStatus.choices)
    #: The pipeline rows this event is about (ids, no foreign keys: history outlives them).
    message_id = models.BigIntegerField(null=True, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True, help_text="replica record id")
    delivery_id = models.BigIntegerField(null=True, blank=True)
    connection_id = models.BigIntegerField(null=True, blank=True)
    route_id = models.BigIntegerField(null=True, blank=True)
    #: What a person searches by: the source's id, the invoice number, the target's id.
    external_id = models.CharField(max_length=100, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    attempt = models.PositiveIntegerField(default=1)
    duration_ms = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=50, blank=True)
    error = models.TextField(blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    #: Minted at L1 per inbound message; every row of its lineage, its JSON log lines
    #: and the requests to the target carry it (nexiom.correlation).
    correlation_id = models.CharField(max_length=36, blank=True, default="")

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["record_id", "created"]),
            models.Index(fields=["message_id", "created"]),
            models.Index(fields=["delivery_id", "created"]),
            models.Index(fields=["status", "layer", "created"]),
            models.Index(fields=["external_id"]),
            models.Index(fields=["reference"]),
            # The lists' order (newest first, ties by id) read straight off one index.
            models.Index(fields=["-created", "-id"], name="syncevent_newest_first"),
            models.Index(fields=["correlation_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_layer_display()} {self.status} at {self.created:%Y-%m-%d %H:%M:%S}"
