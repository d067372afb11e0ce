"""The Celery application: tenant-aware and fail-closed.

tenant-schemas-celery puts the sender's schema into each message's headers
and switches the worker's connection to it before the task runs. On top of
that, ``NexiomTask`` refuses to run a task that arrived without a tenant
(it would otherwise run in the public schema) unless the task declares
itself platform-wide with ``tenant_required=False``, and asks the tenant
gate (``NEXIOM_TASK_TENANT_GATE``, the tenants layer's) whether the tenant
may run work right now: a suspended tenant's task is parked, not run, and
not lost.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexiom.settings")

from celery.exceptions import Ignore
from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string
from tenant_schemas_celery.app import CeleryApp
from tenant_schemas_celery.task import TenantTask


class TenantRequiredError(RuntimeError):
    """A tenant task was sent without a tenant in its headers."""


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
            # The gate lives in a higher layer (tenants), so it is named in settings.
            # It reads the tenant's status at every start: the tenant row that
            # tenant-schemas-celery caches for the schema switch may be 30 s old.
            admit = import_string(settings.NEXIOM_TASK_TENANT_GATE)
            if not admit(task=self, schema_name=connection.schema_name):
                # Parked: acknowledge the message without storing a result, so the
                # caller's AsyncResult gets the real one when the task runs later.
                raise Ignore()
        return super().__call__(*args, **kwargs)

    def parked_signature(self, *, schema_name: str) -> dict:
        """This delivery as a JSON-ready signature that sends the same task again.

        Same id, arguments, chain, callbacks and queue (like Celery's own
        retry), but no ETA: it runs as soon as it is sent again.
        """
        signature = self.signature_from_request(self.request)
        options = {
            name: value
            for name, value in signature.options.items()
            if value is not None and name not in {"eta", "countdown", "headers"}
        }
        options["headers"] = {"_schema_name": schema_name}
        return {
            "task": self.name,
            "args": list(signature.args),
            "kwargs": dict(signature.kwargs),
            "options": options,
            "subtask_type": None,
            "immutable": False,
        }


class NexiomCelery(CeleryApp):
    task_cls = "nexiom.celery:NexiomTask"


app = NexiomCelery("nexiom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
