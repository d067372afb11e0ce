"""The sweep is only as good as its data: every tenant model has rows in A."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from tests.isolation.world import A_ID_BASE, World, tenant_models

#: Rows the schema's migrations make in every tenant alike (ids shared with B).
PROVISIONED = {"contenttypes.ContentType", "auth.Permission"}


def test_every_tenant_model_has_rows_of_a(world: World, db) -> None:
    with tenant_context(world.a.tenant):
        empty = [m._meta.label for m in tenant_models() if not m._base_manager.exists()]
        own = [
            m._meta.label
            for m in tenant_models()
            if m._meta.label not in PROVISIONED
            and m._meta.pk.get_internal_type() in {"AutoField", "BigAutoField"}
            and not m._base_manager.filter(pk__gte=A_ID_BASE).exists()
        ]

    assert not empty, f"seed these models in tests/isolation/world.py: {empty}"
    assert not own, f"no row of A with an id of its own (>= {A_ID_BASE}): {own}"
