"""Connection health as Celery tasks: a platform sweep that fans out per tenant."""

from __future__ import annotations

from dataclasses import asdict

from django_tenants.utils import tenant_context

from connectors.services import authorizations_prune, connections_sweep
from nexiom.celery import app
from tenants.selectors import tenants_active


@app.task(name="connectors.health_sweep", tenant_required=False)
def health_sweep() -> int:
    """Beat, every minute: one tenant task per active tenant (sent from its schema)."""
    sent = 0
    for tenant in tenants_active():
        with tenant_context(tenant):
            health_sweep_tenant.delay()
        sent += 1
    return sent


@app.task(name="connectors.health_sweep_tenant")
def health_sweep_tenant() -> dict:
    """Refresh or test this tenant's due connections; prune stale authorizations."""
    report = connections_sweep()
    authorizations_prune()
    return asdict(report)
