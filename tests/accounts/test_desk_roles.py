"""The Desk (admin on the tenant host) honours the roles: Viewers look, Admins change."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from accounts.models import Invitation, User
from accounts.roles import Role
from accounts.services import invitation_create
from tests.helpers import client_for, commit_effects, member

VIEWER, EDITOR, ADMIN = Role.VIEWER, Role.EDITOR, Role.ADMIN

# (method, path, {role: status}); {user} and {invitation} are filled per test.
DESK_MATRIX = [
    ("GET", "/admin/", {VIEWER: 200, EDITOR: 200, ADMIN: 200}),
    ("GET", "/admin/accounts/user/", {VIEWER: 200, EDITOR: 200, ADMIN: 200}),
    ("GET", "/admin/accounts/user/{user}/change/", {VIEWER: 200, EDITOR: 200, ADMIN: 200}),
    ("POST", "/admin/accounts/user/{user}/change/", {VIEWER: 403, EDITOR: 403, ADMIN: 302}),
    ("GET", "/admin/accounts/user/add/", {VIEWER: 403, EDITOR: 403, ADMIN: 403}),
    ("GET", "/admin/accounts/user/{user}/delete/", {VIEWER: 403, EDITOR: 403, ADMIN: 403}),
    ("GET", "/admin/accounts/invitation/", {VIEWER: 403, EDITOR: 403, ADMIN: 200}),
    ("GET", "/admin/accounts/invitation/add/", {VIEWER: 403, EDITOR: 403, ADMIN: 200}),
    ("POST", "/admin/accounts/invitation/add/", {VIEWER: 403, EDITOR: 403, ADMIN: 302}),
    (
        "GET",
        "/admin/accounts/invitation/{invitation}/change/",
        {VIEWER: 403, EDITOR: 403, ADMIN: 200},
    ),
    ("GET", "/admin/accounts/apitoken/", {VIEWER: 200, EDITOR: 200, ADMIN: 200}),
    ("GET", "/admin/accounts/apitoken/add/", {VIEWER: 200, EDITOR: 200, ADMIN: 200}),
    ("GET", "/admin/auth/group/", {VIEWER: 403, EDITOR: 403, ADMIN: 403}),
    ("GET", "/admin/tenants/tenant/", {VIEWER: 404, EDITOR: 404, ADMIN: 404}),
]
BODIES = {
    "/admin/accounts/user/{user}/change/": {"role": "Editor"},
    "/admin/accounts/invitation/add/": {"email": "desk@example.com", "role": "Viewer"},
}


@pytest.fixture
def desk(tenant_a):
    def login_as(role: Role):
        member(tenant_a, "owner", Role.ADMIN)
        target = member(tenant_a, "target", Role.VIEWER)
        with tenant_context(tenant_a):
            invitation = invitation_create(email="p@example.com", role=Role.VIEWER, invited_by=None)
            actor = member(tenant_a, "actor", role)
            client = client_for(tenant_a)
            client.force_login(actor)
        return client, {"user": target.pk, "invitation": invitation.pk}

    return login_as


@pytest.mark.parametrize("role", [VIEWER, EDITOR, ADMIN], ids=str)
@pytest.mark.parametrize("method,path,expected", DESK_MATRIX, ids=lambda v: str(v)[:60])
def test_desk_matrix(desk, tenant_a, role, method, path, expected):
    client, ids = desk(role)

    response = getattr(client, method.lower())(path.format(**ids), BODIES.get(path, {}))

    assert response.status_code == expected[role]


def test_viewer_sees_users_read_only(desk, tenant_a):
    client, ids = desk(VIEWER)

    page = client.get(f"/admin/accounts/user/{ids['user']}/change/")

    assert b'name="_save"' not in page.content
    assert b"Add invitation" not in client.get("/admin/").content
    listing = client.get("/admin/accounts/user/")
    assert b"Deactivate selected users" not in listing.content


def test_admin_changes_a_role_in_the_desk(desk, tenant_a):
    client, ids = desk(ADMIN)

    client.post(f"/admin/accounts/user/{ids['user']}/change/", {"role": "Editor"})

    with tenant_context(tenant_a):
        assert User.objects.get(pk=ids["user"]).role == Role.EDITOR


def test_desk_refuses_to_demote_the_last_admin(tenant_a):
    boss = member(tenant_a, "boss", Role.ADMIN)
    client = client_for(tenant_a)
    with tenant_context(tenant_a):
        client.force_login(boss)

    client.post(f"/admin/accounts/user/{boss.pk}/change/", {"role": "Viewer"}, follow=True)

    with tenant_context(tenant_a):
        assert User.objects.get(pk=boss.pk).role == Role.ADMIN


def test_admin_invites_resends_and_revokes_from_the_desk(desk, tenant_a, mailoutbox):
    client, _ = desk(ADMIN)
    sent_before = len(mailoutbox)

    with commit_effects():
        client.post(
            "/admin/accounts/invitation/add/", {"email": "desk@example.com", "role": "Editor"}
        )
    with tenant_context(tenant_a):
        invitation = Invitation.objects.get(email="desk@example.com")
    with commit_effects():
        client.post(
            "/admin/accounts/invitation/", {"action": "resend", "_selected_action": [invitation.pk]}
        )
    client.post(
        "/admin/accounts/invitation/", {"action": "revoke", "_selected_action": [invitation.pk]}
    )

    assert len(mailoutbox) == sent_before + 2
    with tenant_context(tenant_a):
        invitation.refresh_from_db()
        assert invitation.role == "Editor"
        assert invitation.status == "revoked"
        assert invitation.send_count == 2


def test_new_token_is_shown_once_in_the_desk(tenant_a):
    viewer = member(tenant_a, "viewer", Role.VIEWER)
    client = client_for(tenant_a)
    with tenant_context(tenant_a):
        client.force_login(viewer)

    page = client.post("/admin/accounts/apitoken/add/", {"name": "laptop", "expires_in_days": 7})

    assert page.status_code == 200
    assert b"nxm_" in page.content
    listing = client.get("/admin/accounts/apitoken/")
    assert b"laptop" in listing.content
    token_text = page.content.split(b'id="new-token"')[1].split(b"<")[0]
    assert token_text.split(b">")[1] not in listing.content
