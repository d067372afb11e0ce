"""Every role x every endpoint x every method, table-driven.

MATRIX is also the documentation of who may do what through the API;
`python -m tests.accounts.test_role_matrix` prints it.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from accounts.models import ApiToken, Invitation, User
from accounts.roles import Role
from accounts.services import api_token_create, invitation_create
from tests.helpers import client_for, member
from tests.matrix import ACTORS, ANON, Row, admin_only, everyone, render

MATRIX: list[Row] = [
    Row("GET", "/api/me/", everyone(200)),
    Row("PATCH", "/api/me/", everyone(405)),
    Row("GET", "/api/users/", everyone(200)),
    Row("POST", "/api/users/", admin_only(405), {"username": "x"}),
    Row("GET", "/api/users/{user}/", everyone(200)),
    Row("PATCH", "/api/users/{user}/", admin_only(200), {"role": "Editor"}),
    Row("PUT", "/api/users/{user}/", admin_only(405), {"role": "Editor"}),
    Row("DELETE", "/api/users/{user}/", admin_only(405)),
    Row("POST", "/api/users/{user}/deactivate/", admin_only(200)),
    Row("POST", "/api/users/{user}/reactivate/", admin_only(200)),
    Row("GET", "/api/invitations/", admin_only(200)),
    Row(
        "POST", "/api/invitations/", admin_only(201), {"email": "new@example.com", "role": "Viewer"}
    ),
    Row("GET", "/api/invitations/{invitation}/", admin_only(200)),
    Row("PATCH", "/api/invitations/{invitation}/", admin_only(405), {"role": "Admin"}),
    Row("DELETE", "/api/invitations/{invitation}/", admin_only(204)),
    Row("POST", "/api/invitations/{invitation}/resend/", admin_only(200)),
    Row("GET", "/api/tokens/", everyone(200)),
    Row("POST", "/api/tokens/", everyone(201), {"name": "ci"}),
    Row("GET", "/api/tokens/{token}/", everyone(200)),
    Row("PATCH", "/api/tokens/{token}/", everyone(405), {"name": "renamed"}),
    Row("DELETE", "/api/tokens/{token}/", everyone(204)),
    Row("GET", "/api/schema/", everyone(200, anon=200)),
]


def snapshot(tenant) -> tuple:
    """What a refused request must leave unchanged."""
    with tenant_context(tenant):
        return (
            sorted(
                (u.username, u.is_active, u.role.value if u.role else None)
                for u in User.objects.prefetch_related("groups")
            ),
            sorted(Invitation.objects.values_list("email", "role", "revoked_at", "token_hash")),
            sorted(ApiToken.objects.values_list("name", "revoked_at")),
        )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("row", MATRIX, ids=lambda r: f"{r.method} {r.path}")
def test_role_matrix(db, tenant_a, row: Row, actor: str):
    member(tenant_a, "owner", Role.ADMIN)  # keeps an Admin besides the actor
    target = member(tenant_a, "target", Role.VIEWER)
    client = client_for(tenant_a)
    with tenant_context(tenant_a):
        invitation = invitation_create(
            email="pending@example.com", role=Role.VIEWER, invited_by=None
        )
        token_owner = target
        if actor != ANON:
            acting = member(tenant_a, "actor", Role(actor))
            client.force_login(acting)
            token_owner = acting
        token = api_token_create(user=token_owner, name="mine").token
    path = row.path.format(user=target.pk, invitation=invitation.pk, token=token.pk)
    before = snapshot(tenant_a)

    response = getattr(client, row.method.lower())(
        path, data=row.body, content_type="application/json"
    )

    assert response.status_code == row.expected[actor], response.content[:300]
    if response.status_code >= 400 and row.method != "GET":
        assert snapshot(tenant_a) == before


if __name__ == "__main__":
    print(render(MATRIX))
