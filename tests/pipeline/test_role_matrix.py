"""Who may read and change routes and issue ingest URLs; refusals change nothing.

`python -m tests.pipeline.test_role_matrix` prints the table.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import pytest
from django_tenants.utils import tenant_context

from accounts.roles import Role
from pipeline.models import HookToken, Route
from pipeline.services.routes import route_create
from tests.factories import ConnectionFactory
from tests.helpers import client_for, member
from tests.matrix import ACTORS, ANON, Row, editors, everyone, render

MAPPING = {"items": {"line_haul": "21", "fuel_surcharge": "22", "accessorial": "23"}}

MATRIX: list[Row] = [
    Row("GET", "/api/routes/", everyone(200)),
    Row("GET", "/api/routes/{route}/", everyone(200)),
    Row(
        "POST",
        "/api/routes/",
        editors(201),
        {"name": "New route", "source": "{source}", "target": "{target}", "mapping": MAPPING},
    ),
    Row("PATCH", "/api/routes/{route}/", editors(200), {"enabled": False}),
    Row("DELETE", "/api/routes/{route}/", editors(204)),
    Row("POST", "/api/connections/{source}/hook/", editors(200)),
]


def snapshot(tenant) -> tuple:
    with tenant_context(tenant):
        return (
            sorted(
                Route.objects.values_list("name", "enabled", "source_id", "target_id", "mapping")
            ),
            sorted(HookToken.objects.values_list("token_hash", "revoked_at")),
        )


def _filled(value, ids: dict[str, int]):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


@pytest.fixture
def wiring(db, tenant_a):
    with tenant_context(tenant_a):
        source = ConnectionFactory(connector="revenova", name="TMS")
        target = ConnectionFactory(connector="quickbooks", name="Books", connected=True)
        route = route_create(name="Invoices", source=source, target=target, mapping=MAPPING)
    return {"source": source.pk, "target": target.pk, "route": route.pk}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("row", MATRIX, ids=lambda r: f"{r.method} {r.path}")
def test_role_matrix(tenant_a, wiring, row: Row, actor: str):
    client = client_for(tenant_a)
    if actor != ANON:
        acting = member(tenant_a, "actor", Role(actor))
        with tenant_context(tenant_a):
            client.force_login(acting)
    body = {k: _filled(v, wiring) for k, v in (row.body or {}).items()} or None
    before = snapshot(tenant_a)

    response = getattr(client, row.method.lower())(
        row.path.format(**wiring), data=body, content_type="application/json"
    )

    assert response.status_code == row.expected[actor], response.content
    if response.status_code >= 400:
        assert snapshot(tenant_a) == before
        assert "error" in response.json()


def test_the_hook_url_is_shown_once_and_only_its_hash_is_kept(tenant_a, wiring):
    client = client_for(tenant_a)
    with tenant_context(tenant_a):
        client.force_login(member(tenant_a, "ed", Role.EDITOR))

    first = client.post(f"/api/connections/{wiring['source']}/hook/").json()["url"]
    second = client.post(f"/api/connections/{wiring['source']}/hook/").json()["url"]

    token = second.rsplit("/", 1)[1]
    assert second.startswith("http://alpha.localhost")
    assert first != second
    with tenant_context(tenant_a):
        live = HookToken.objects.get(revoked_at__isnull=True)
        assert HookToken.objects.filter(revoked_at__isnull=False).count() == 1
        row = HookToken.objects.filter(pk=live.pk).values().get()
    assert live.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert live.prefix == token[:8]
    assert not any(token in str(value) for value in row.values())
    revoked = client.post(urlsplit(first).path, b"<x/>", content_type="text/xml")
    assert revoked.status_code == 404


if __name__ == "__main__":
    print(render(MATRIX))
