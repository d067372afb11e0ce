"""Writing the same fields of many rows back, cheaply.

Django's ``bulk_update`` builds one ``CASE WHEN id = … THEN …`` expression per
field and row and resolves each in Python: for a pipeline batch of 100
deliveries and a dozen fields that is most of the layer's CPU. Here each row
is one parameterised ``UPDATE … WHERE pk = %s``, sent with ``executemany``
(psycopg pipelines it: one round trip for the batch), values prepared by the
model fields themselves, as ``save()`` would.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, router
from django.db.models import Model


def rows_update(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of each object (all of one model) to its row; returns the row count."""
    if not objs:
        return 0
    model = type(objs[0])
    meta = model._meta
    concrete = [meta.get_field(name) for name in fields]
    using = router.db_for_write(model)
    connection = connections[using]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in concrete)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 - names from _meta
        f"WHERE {quote(meta.pk.column)} = %s"
    )
    params = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in concrete]
        + [meta.pk.get_db_prep_value(obj.pk, connection)]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)
