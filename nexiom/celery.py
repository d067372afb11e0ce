"""The Celery application: tenant-aware and fail-closed.

tenant-schemas-celery puts the sender's schema into each message's headers
and switches the worker's connection to it before the task runs. On top of
that, ``NexiomTask`` refuses to run a task that arrived without a tenant
(it would otherwise run in the public schema) unless the task declares
itself platform-wide with ``tenant_required=False``.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexiom.settings")

from django.db import connection
from tenant_schemas_celery.app import CeleryApp
from tenant_schemas_celery.task import TenantTask


class TenantRequiredError(RuntimeError):
    """A tenant task was sent without a tenant in its headers."""


class TenantSuspendedError(RuntimeError):
    """A task arrived for a suspended tenant; its work must wait for reactivation."""


class NexiomTask(TenantTask):
    abstract = True
    #: Platform tasks (sweepers that fan out per tenant) set this to False.
    tenant_required = True

    def __call__(self, *args, **kwargs):
        if self.tenant_required:
            from django_tenants.utils import get_public_schema_name

            if connection.schema_name == get_public_schema_name():
                raise TenantRequiredError(
                    f"task {self.name} needs a tenant; send it from inside a tenant schema"
                )
            # The real row (cached briefly), not the connection's FakeTenant.
            tenant = self.get_tenant_for_schema(schema_name=connection.schema_name)
            if tenant.status == "suspended":
                raise TenantSuspendedError(f"tenant {tenant.schema_name} is suspended")
        return super().__call__(*args, **kwargs)


class NexiomCelery(CeleryApp):
    task_cls = "nexiom.celery:NexiomTask"


app = NexiomCelery("nexiom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
