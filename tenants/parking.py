"""A suspended tenant's tasks wait here, durably, and run after reactivation.

Why a table and not ``retry(countdown=...)``: a retry is a new Redis message
that waits for its ETA inside a worker, unacknowledged, so it must re-arm
itself every ``CELERY_MAX_COUNTDOWN_SECONDS`` (or run twice when the
visibility timeout passes); across a suspension of days that is thousands
of messages per task, it spends the task's ``max_retries`` (after which the
work is dropped), and the held ETA messages fill the worker's memory. A row
in the public schema costs nothing while it waits, survives worker and Redis
restarts, and is sent again exactly when the tenant is reactivated.

Ordering, so that nothing is left behind and nothing runs twice:
- a worker parks under a lock on the tenant row, after re-reading the status
  under that lock (``tenant_task_admit``);
- reactivation (``tenants.services.tenant_status_set``) updates the row,
  which takes the same lock, and sends the parked tasks again before it
  commits (``parked_tasks_release``). A worker that read "suspended" just
  before waits for that commit, then sees "active" and runs the task.
A parked row therefore exists only while its tenant is suspended. Status
changes made around the service (SQL, a shell) are caught by the
``tenants.release_parked_tasks`` sweep.
"""

from __future__ import annotations

import logging

from django.db import transaction

from nexiom.celery import NexiomTask, app
from tenants.models import ParkedTask, Tenant

logger = logging.getLogger(__name__)


def _status_of(*, schema_name: str, lock: bool = False) -> str | None:
    tenants = Tenant.objects.filter(schema_name=schema_name)
    if lock:
        tenants = tenants.select_for_update()
    return tenants.values_list("status", flat=True).first()


def tenant_task_admit(*, task: NexiomTask, schema_name: str) -> bool:
    """True when the task may run now; otherwise it is parked and must not run.

    The status is read from the database at every task start (one indexed
    read of the public tenants table, small beside Celery's own ~9 ms per
    task), never from the worker's tenant cache, so a suspension stops the
    very next task.
    """
    if _status_of(schema_name=schema_name) != Tenant.Status.SUSPENDED:
        return True
    with transaction.atomic():
        if _status_of(schema_name=schema_name, lock=True) != Tenant.Status.SUSPENDED:
            return True  # reactivated while we looked: run it
        tenant = Tenant.objects.get(schema_name=schema_name)
        # A redelivered message (worker lost before the ack) finds its row.
        _, created = ParkedTask.objects.get_or_create(
            task_id=task.request.id,
            defaults={
                "tenant": tenant,
                "task_name": task.name,
                "signature": task.parked_signature(schema_name=schema_name),
            },
        )
    if created:
        logger.info("task %s %s parked: tenant %s suspended", task.name, task.request.id, tenant)
    return False


def parked_tasks_release(*, tenant: Tenant) -> int:
    """Send the tenant's parked tasks again, oldest first; return how many.

    Call it inside the transaction that made the tenant active. The tasks
    are sent before that transaction commits, on purpose: deleting the rows
    first and sending after the commit could lose a task if the process died
    in between; this way a failed commit at worst sends a task twice (and
    every task is safe to run twice). Workers that receive them before the
    commit wait on the tenant row lock, then see the tenant active.
    """
    parked = list(ParkedTask.objects.select_for_update().filter(tenant=tenant))
    for row in parked:
        app.signature(row.signature).apply_async()
    ParkedTask.objects.filter(pk__in=[row.pk for row in parked]).delete()
    if parked:
        logger.info("tenant %s: %d parked task(s) sent again", tenant.slug, len(parked))
    return len(parked)


def parked_tasks_sweep() -> int:
    """Release parked tasks of tenants that are active (status changed around the service)."""
    released = 0
    tenant_ids = set(
        ParkedTask.objects.filter(tenant__status=Tenant.Status.ACTIVE).values_list(
            "tenant_id", flat=True
        )
    )
    for tenant_id in tenant_ids:
        with transaction.atomic():
            tenant = Tenant.objects.select_for_update().get(pk=tenant_id)
            if tenant.status == Tenant.Status.ACTIVE:
                released += parked_tasks_release(tenant=tenant)
    return released
