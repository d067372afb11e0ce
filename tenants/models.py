"""A tenant is one customer company; its data lives in its own PostgreSQL schema."""

from __future__ import annotations

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=200)
    # The DNS label of the tenant's host (acme -> acme.<base domain>). The
    # schema name is derived from it (hyphens become underscores).
    slug = models.SlugField(max_length=40, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    #: Raw messages and the payload snapshots of the sync history are pruned after this
    #: many days; the history's summaries (who, when, status, error) stay.
    history_retention_days = models.PositiveIntegerField(
        default=30, help_text="Days raw payloads are kept (the history's summaries stay)."
    )
    created = models.DateTimeField(auto_now_add=True)

    # Provisioning creates the schema itself inside one transaction (see
    # tenants.services.tenant_provision); plain saves never touch schemas.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class ParkedTask(models.Model):
    """A task that reached a worker while its tenant was suspended.

    Its message was acknowledged once this row committed; reactivation sends
    it again with the same task id and deletes the row (tenants.parking).
    Lives in the public schema, next to the tenant row whose lock orders
    parking against reactivation.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="parked_tasks")
    task_id = models.CharField(max_length=255, unique=True)
    task_name = models.CharField(max_length=255)
    # Celery signature as a dict: task, args, kwargs, options (chain, links, ...).
    signature = models.JSONField()
    parked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["parked_at", "pk"]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.task_id}) for {self.tenant_id}"


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
