"""Retention: a platform beat job strips old payloads in every tenant, by its own setting."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from nexiom.celery import app
from sync_history.services import history_prune
from tenants.selectors import tenants_active


@app.task(name="sync_history.prune", tenant_required=False)
def prune() -> int:
    """Beat, daily: one tenant task per active tenant with its retention in days."""
    sent = 0
    for tenant in tenants_active():
        with tenant_context(tenant):
            prune_tenant.delay(tenant.history_retention_days)
        sent += 1
    return sent


@app.task(name="sync_history.prune_tenant")
def prune_tenant(days: int) -> int:
    return history_prune(older_than_days=days)
