"""User API behaviour beyond the role matrix: tokens, invitations, the last Admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import ApiToken, Invitation, User
from accounts.roles import Role
from accounts.services import api_token_create, user_deactivate
from tests.helpers import LINK_RE, client_for, commit_effects, member, signed_in


def bearer(tenant, plaintext: str):
    return client_for(tenant), {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


@pytest.fixture
def admin_a(tenant_a):
    return member(tenant_a, "boss", Role.ADMIN)


def test_token_is_shown_once_and_stored_only_as_a_hash(tenant_a, admin_a):
    client = signed_in(tenant_a, admin_a)

    created = client.post("/api/tokens/", {"name": "ci", "expires_in_days": 30})
    listed = client.get("/api/tokens/")

    plaintext = created.json()["token"]
    assert plaintext.startswith("nxm_")
    assert "token" not in listed.json()["results"][0]
    with tenant_context(tenant_a), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        assert plaintext not in repr(cursor.fetchall())


def test_bearer_token_works_on_its_tenant(tenant_a, admin_a):
    with tenant_context(tenant_a):
        plaintext = api_token_create(user=admin_a, name="script").plaintext
    client, auth = bearer(tenant_a, plaintext)

    response = client.get("/api/me/", **auth)

    assert response.status_code == 200
    assert response.json()["username"] == "boss"
    assert response.json()["role"] == "Admin"
    assert response.json()["tenant"] == {"slug": "alpha", "name": "Alpha Freight Ltd"}


def test_token_of_tenant_a_is_refused_on_tenant_b(tenant_a, tenant_b, admin_a):
    with tenant_context(tenant_a):
        plaintext = api_token_create(user=admin_a, name="script").plaintext
    client, auth = bearer(tenant_b, plaintext)

    response = client.get("/api/users/", **auth)

    assert response.status_code == 401
    assert "boss" not in response.content.decode()


def test_deactivated_users_token_stops_working(tenant_a, admin_a):
    worker = member(tenant_a, "worker", Role.EDITOR)
    with tenant_context(tenant_a):
        plaintext = api_token_create(user=worker, name="script").plaintext
        user_deactivate(user=worker)
    client, auth = bearer(tenant_a, plaintext)

    assert client.get("/api/me/", **auth).status_code == 401


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_revoked_and_expired_tokens_are_refused(tenant_a, admin_a, state):
    with tenant_context(tenant_a):
        created = api_token_create(user=admin_a, name="old")
        field = "revoked_at" if state == "revoked" else "expires_at"
        ApiToken.objects.filter(pk=created.token.pk).update(
            **{field: timezone.now() - timedelta(seconds=1)}
        )
    client, auth = bearer(tenant_a, created.plaintext)

    response = client.get("/api/me/", **auth)

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "authentication_failed",
            "message": "Invalid or expired token.",
            "fields": {},
        }
    }


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer nxm_forged",
        "Bearer a b",
        "Bearer ' OR 1=1 --",
        "Bearer " + "x" * 5000,
        "Token nxm_abc",
    ],
)
def test_malformed_and_forged_bearer_values_are_refused(tenant_a, header):
    response = client_for(tenant_a).get("/api/me/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401


def test_tokens_cannot_mint_tokens(tenant_a, admin_a):
    with tenant_context(tenant_a):
        plaintext = api_token_create(user=admin_a, name="script").plaintext
    client, auth = bearer(tenant_a, plaintext)

    response = client.post("/api/tokens/", {"name": "child"}, **auth)

    assert response.status_code == 403
    with tenant_context(tenant_a):
        assert ApiToken.objects.count() == 1


@pytest.mark.parametrize("days", [0, -5, 366, 10_000])
def test_token_lifetime_is_bounded(tenant_a, admin_a, days):
    response = signed_in(tenant_a, admin_a).post(
        "/api/tokens/", {"name": "x", "expires_in_days": days}
    )

    assert response.status_code == 400
    with tenant_context(tenant_a):
        assert ApiToken.objects.count() == 0


def test_users_see_only_their_own_tokens(tenant_a, admin_a):
    other = member(tenant_a, "other", Role.VIEWER)
    with tenant_context(tenant_a):
        foreign = api_token_create(user=other, name="theirs").token

    client = signed_in(tenant_a, admin_a)

    assert client.get(f"/api/tokens/{foreign.pk}/").status_code == 404
    assert client.delete(f"/api/tokens/{foreign.pk}/").status_code == 404
    with tenant_context(tenant_a):
        assert ApiToken.objects.get(pk=foreign.pk).revoked_at is None


def test_the_last_admin_cannot_be_demoted_or_deactivated(tenant_a, admin_a):
    client = signed_in(tenant_a, admin_a)

    demote = client.patch(
        f"/api/users/{admin_a.pk}/", {"role": "Viewer"}, content_type="application/json"
    )
    deactivate = client.post(f"/api/users/{admin_a.pk}/deactivate/")

    assert demote.status_code == 409
    assert demote.json()["error"]["code"] == "last_admin"
    assert "last active Admin" in demote.json()["error"]["message"]
    assert deactivate.status_code == 409
    assert deactivate.json()["error"]["code"] == "last_admin"
    with tenant_context(tenant_a):
        boss = User.objects.get(pk=admin_a.pk)
        assert (boss.role, boss.is_active) == (Role.ADMIN, True)


def test_an_admin_can_step_down_once_another_admin_exists(tenant_a, admin_a):
    member(tenant_a, "deputy", Role.ADMIN)
    client = signed_in(tenant_a, admin_a)

    response = client.patch(
        f"/api/users/{admin_a.pk}/", {"role": "Viewer"}, content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json()["role"] == "Viewer"
    assert response.json()["role_source"] == "admin"  # Nexiom, not the provider, owns it now


@pytest.mark.parametrize("role", ["", "Owner", "admin; drop table", None])
def test_role_change_rejects_unknown_roles(tenant_a, admin_a, role):
    target = member(tenant_a, "target", Role.VIEWER)

    response = signed_in(tenant_a, admin_a).patch(
        f"/api/users/{target.pk}/", {"role": role}, content_type="application/json"
    )

    assert response.status_code == 400
    with tenant_context(tenant_a):
        assert User.objects.get(pk=target.pk).role == Role.VIEWER


def test_invitation_email_carries_a_link_to_this_tenant_and_no_token_in_the_api(
    tenant_a, admin_a, mailoutbox
):
    with commit_effects():
        response = signed_in(tenant_a, admin_a).post(
            "/api/invitations/", {"email": "new@Example.COM", "role": "Editor"}
        )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new@example.com"
    assert body["status"] == "pending"
    assert body["invited_by"] == "boss"
    assert "token" not in str(body)
    link = LINK_RE.search(mailoutbox[-1].body)
    assert link["host"] == "alpha.localhost:8000"
    assert mailoutbox[-1].to == ["new@example.com"]
    with tenant_context(tenant_a):
        assert link["token"] not in str(Invitation.objects.values_list())


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "not-an-email", "role": "Viewer"},
        {"email": "a@example.com", "role": "God"},
        {"email": "", "role": "Viewer"},
        {"email": "<script>@x", "role": "Viewer"},
        {},
    ],
)
def test_bad_invitations_are_refused_and_nothing_is_sent(tenant_a, admin_a, mailoutbox, payload):
    response = signed_in(tenant_a, admin_a).post("/api/invitations/", payload)

    assert response.status_code == 400
    assert mailoutbox == []
    with tenant_context(tenant_a):
        assert Invitation.objects.count() == 0


def test_resend_kills_the_old_link_and_revoke_kills_the_new(tenant_a, admin_a, mailoutbox):
    client = signed_in(tenant_a, admin_a)
    with commit_effects():
        invitation = client.post("/api/invitations/", {"email": "r@example.com", "role": "Viewer"})
    first = LINK_RE.search(mailoutbox[-1].body)["token"]

    with commit_effects():
        client.post(f"/api/invitations/{invitation.json()['id']}/resend/")
    second = LINK_RE.search(mailoutbox[-1].body)["token"]

    assert first != second
    assert client_for(tenant_a).get(f"/invitations/{first}/").status_code == 404
    assert client_for(tenant_a).get(f"/invitations/{second}/").status_code == 200
    client.delete(f"/api/invitations/{invitation.json()['id']}/")
    assert client_for(tenant_a).get(f"/invitations/{second}/").status_code == 410
    listed = client.get("/api/invitations/?status=revoked").json()["results"]
    assert [row["email"] for row in listed] == ["r@example.com"]


def test_inviting_an_existing_member_is_refused(tenant_a, admin_a):
    member(tenant_a, "old", Role.VIEWER, email="old@example.com")

    response = signed_in(tenant_a, admin_a).post(
        "/api/invitations/", {"email": "old@example.com", "role": "Admin"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_member"
    assert "already a member" in response.json()["error"]["message"]


def test_user_without_a_role_gets_nothing(tenant_a):
    stray = member(tenant_a, "stray", None)

    assert signed_in(tenant_a, stray).get("/api/users/").status_code == 403


def test_swagger_ui_and_browsable_api_render(tenant_a, admin_a):
    client = signed_in(tenant_a, admin_a)

    assert client.get("/api/docs/").status_code == 200
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert "/api/invitations/" in schema.json()["paths"]
    browsable = client.get("/api/users/", HTTP_ACCEPT="text/html")
    assert browsable.status_code == 200
    assert b"boss" in browsable.content
