"""Helpers for vault tests that need committed rows or the audit connection.

In a ``db`` test, default and the ``vault_audit`` alias each sit in a
transaction of their own that Django rolls back afterwards; neither sees the
other's uncommitted rows. ``audit_rows`` reads the audit as the vault wrote it
(on its alias); ``on_own_connection`` runs work on a thread whose connections
autocommit, as a web or worker process does, so that everybody sees its rows.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.db import connection, connections
from django.db.models import QuerySet
from django_tenants.utils import schema_context

from tenants.models import Tenant
from vault.audit import AUDIT_DATABASE
from vault.models import SecretRead


def audit_rows() -> QuerySet[SecretRead]:
    """The audit of the current tenant, read on the connection that writes it."""
    connections[AUDIT_DATABASE].set_schema(connection.schema_name)
    return SecretRead.objects.using(AUDIT_DATABASE).all()


def on_own_connection(work, *, schema: str | None = None):
    """Run ``work`` (in ``schema``) on a thread of its own: own connections, autocommit."""

    def run():
        try:
            if schema is None:
                return work()
            with schema_context(schema):
                return work()
        finally:
            for alias in ("default", AUDIT_DATABASE):
                connections[alias].close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=120)


def committed_audit_rows_delete() -> None:
    """Delete every tenant's committed audit rows (left by threads of earlier tests)."""
    schemas = list(
        Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True)
    )
    dirty = [schema for schema in schemas if _has_rows(schema)]
    if dirty:
        on_own_connection(lambda: [_delete_rows(schema) for schema in dirty])


def _has_rows(schema: str) -> bool:
    with schema_context(schema):
        return SecretRead.objects.exists()


def _delete_rows(schema: str) -> None:
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("DELETE FROM vault_secretread")
