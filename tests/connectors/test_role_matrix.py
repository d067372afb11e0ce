"""Every role x every connections endpoint; a refusal changes nothing.

`python -m tests.connectors.test_role_matrix` prints the table.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from accounts.roles import Role
from connectors.models import Authorization, Connection
from tests.factories import ConnectionFactory
from tests.helpers import client_for, member
from tests.matrix import ACTORS, ANON, Row, editors, everyone, render

_NEW_OAUTH = {"connector": "quickbooks", "name": "New books", "environment": "local"}

MATRIX: list[Row] = [
    Row("GET", "/api/connectors/", everyone(200)),
    Row("GET", "/api/connections/", everyone(200)),
    Row("POST", "/api/connections/", editors(201), _NEW_OAUTH),
    Row("GET", "/api/connections/{connection}/", everyone(200)),
    Row("PATCH", "/api/connections/{connection}/", editors(405), {"name": "x"}),
    Row("PUT", "/api/connections/{connection}/", editors(405), {"name": "x"}),
    Row("POST", "/api/connections/{connection}/authorize/", editors(200)),
    # A pending connection has nothing to test or refresh: 409 for those who may try.
    Row("POST", "/api/connections/{connection}/test/", editors(409)),
    Row("POST", "/api/connections/{connection}/refresh/", editors(409)),
    Row("POST", "/api/connections/{connection}/disable/", editors(200)),
    Row("DELETE", "/api/connections/{connection}/", editors(204)),
    Row("GET", "/api/connections/999999/", everyone(404)),
]


def snapshot(tenant) -> tuple:
    with tenant_context(tenant):
        return (
            sorted(Connection.objects.values_list("name", "status", "credentials_id")),
            Authorization.objects.count(),
        )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("row", MATRIX, ids=lambda r: f"{r.method} {r.path}")
def test_role_matrix(db, tenant_a, row: Row, actor: str):
    client = client_for(tenant_a)
    with tenant_context(tenant_a):
        connection = ConnectionFactory(name="Books")
        if actor != ANON:
            client.force_login(member(tenant_a, "actor", Role(actor)))
    before = snapshot(tenant_a)

    response = getattr(client, row.method.lower())(
        row.path.format(connection=connection.pk), data=row.body, content_type="application/json"
    )

    assert response.status_code == row.expected[actor], response.content[:300]
    if response.status_code >= 400 and row.method != "GET":
        assert snapshot(tenant_a) == before


if __name__ == "__main__":
    print(render(MATRIX))
