"""Platform-wide periodic jobs of the tenants app."""

from __future__ import annotations

from nexiom.celery import app
from tenants.parking import parked_tasks_sweep
from tenants.services import tenant_schemas_audit


@app.task(name="tenants.audit_schemas", tenant_required=False)
def audit_schemas() -> list[str]:
    """Compare tenant rows with PostgreSQL schemas; problems are logged as errors."""
    return tenant_schemas_audit()


@app.task(name="tenants.release_parked_tasks", tenant_required=False)
def release_parked_tasks() -> int:
    """Send again the parked tasks of tenants made active around tenant_status_set."""
    return parked_tasks_sweep()
