"""Retention of raw messages: bodies go after the tenant's days, the rows (and history) stay."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from pipeline.models import InboundMessage


def raw_messages_prune(*, older_than_days: int) -> int:
    """Drop the bodies of parsed (or failed) messages older than the retention."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    return (
        InboundMessage.objects.filter(received_at__lt=cutoff, body__isnull=False)
        .exclude(status=InboundMessage.Status.STORED)
        .update(body=None, pruned_at=timezone.now())
    )
