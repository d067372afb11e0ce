"""Retention: payload snapshots and raw bodies go after the tenant's days; summaries stay."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from pipeline.models import InboundMessage
from pipeline.services.retention import raw_messages_prune
from sync_history.models import SyncEvent
from sync_history.services import history_prune
from tests.factories import InboundMessageFactory, SyncEventFactory


def test_old_snapshots_and_raw_bodies_are_pruned_and_summaries_stay(tenant_a):
    long_ago = timezone.now() - timedelta(days=45)
    with tenant_context(tenant_a):
        old = SyncEventFactory(
            created=long_ago,
            layer="normalize",
            status="failed",
            error_code="record_invalid",
            error="no total",
            reference="INV-1",
            detail={"canonical": {"number": "INV-1"}, "fields": {"total": ["missing"]}},
        )
        recent = SyncEventFactory(detail={"canonical": {"number": "INV-2"}})
        old_message = InboundMessageFactory(
            received_at=long_ago, status=InboundMessage.Status.PARSED, body=b"<old/>"
        )
        waiting = InboundMessageFactory(received_at=long_ago, body=b"<not parsed yet/>")

        pruned = history_prune(older_than_days=30)
        raw = raw_messages_prune(older_than_days=30)

        old.refresh_from_db()
        recent.refresh_from_db()
        assert pruned == 1 and raw == 1
        assert old.detail == {"fields": {"total": ["missing"]}}  # the summary stays
        assert (old.status, old.error_code, old.error, old.reference) == (
            "failed",
            "record_invalid",
            "no total",
            "INV-1",
        )
        assert recent.detail == {"canonical": {"number": "INV-2"}}
        assert InboundMessage.objects.get(pk=old_message.pk).body is None
        assert InboundMessage.objects.get(pk=old_message.pk).pruned_at is not None
        # A message not parsed yet is never pruned: it is still owed to L2.
        assert bytes(InboundMessage.objects.get(pk=waiting.pk).body) == b"<not parsed yet/>"


def test_the_retention_is_a_tenant_setting(tenant_a, tenant_b):
    assert tenant_a.history_retention_days == 30
    tenant_b.history_retention_days = 7
    tenant_b.save(update_fields=["history_retention_days"])
    with tenant_context(tenant_b):
        SyncEventFactory(created=timezone.now() - timedelta(days=10), detail={"raw": {}})
        assert history_prune(older_than_days=tenant_b.history_retention_days) == 1
        assert SyncEvent.objects.get().detail == {}
