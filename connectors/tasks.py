"""Connection health as Celery tasks: a platform sweep that fans out per tenant, then per batch.

``connectors.health_sweep`` (beat, every minute) sends one
``connectors.health_sweep_tenant`` per active tenant, from inside that
tenant's schema (suspended tenants are skipped here, and parked by the task
gate if one is suspended in between). The tenant task claims its due
connections; it checks the first ``BATCH_SIZE`` itself and sends the rest as
``connectors.health_check_batch`` tasks, so a tenant with thousands of due
connections spreads over every worker and no single task runs long.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from django.db import transaction
from django_tenants.utils import tenant_context

from connectors.services import authorizations_prune
from connectors.services.health import connections_check, connections_claim_due
from nexiom.celery import app
from tenants.selectors import tenants_active

#: Connections checked by one task (on ``health.CHECK_THREADS`` threads).
BATCH_SIZE = 100


# Results are kept (unlike most tasks): the sweep's report is what an operator reads in Flower.
@app.task(name="connectors.health_sweep", tenant_required=False, ignore_result=False)
def health_sweep() -> int:
    """Beat, every minute: one tenant task per active tenant (sent from its schema)."""
    sent = 0
    for tenant in tenants_active():
        with tenant_context(tenant):
            health_sweep_tenant.delay()
        sent += 1
    return sent


@app.task(name="connectors.health_sweep_tenant", ignore_result=False)
def health_sweep_tenant() -> dict:
    """Claim this tenant's due connections, check them (in batches); prune authorizations."""
    claim = connections_claim_due()
    first, rest = claim.ids[:BATCH_SIZE], claim.ids[BATCH_SIZE:]
    batches = [rest[i : i + BATCH_SIZE] for i in range(0, len(rest), BATCH_SIZE)]
    until = claim.until.isoformat()
    for batch in batches:
        # The claim is committed already; on_commit says so to the reader.
        transaction.on_commit(lambda batch=batch: health_check_batch.delay(batch, until))
    report = connections_check(ids=first, claimed_until=claim.until)
    authorizations_prune()
    return {**asdict(report), "batches_sent": len(batches)}


@app.task(name="connectors.health_check_batch", ignore_result=False)
def health_check_batch(connection_ids: list[int], claimed_until: str) -> dict:
    """Check these claimed connections of this tenant (safe to run twice: a connection
    whose claim was already used is skipped)."""
    report = connections_check(
        ids=connection_ids, claimed_until=datetime.fromisoformat(claimed_until)
    )
    return asdict(report)
