"""One error map: the same refusal reads the same in the API, the Desk and a command."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django_tenants.utils import tenant_context

from accounts.errors import AlreadyMember, InvitationUnknown, InvitationUnusable, LastAdminError
from accounts.models import Invitation
from accounts.roles import Role
from accounts.services import invitation_create, invitation_revoke
from nexiom.errors import DomainError
from tests.helpers import client_for, commit_effects, invite, member, signed_in


def test_every_domain_error_has_a_code_and_a_status():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    import accounts.errors  # noqa: F401 - load every app's errors
    import tenants.errors  # noqa: F401
    import vault.errors  # noqa: F401

    for cls in subclasses(DomainError):
        assert cls.code and cls.code == cls.code.lower() and " " not in cls.code, cls
        assert 400 <= cls.status <= 599, cls


def test_api_refusal_has_one_body_shape(tenant_a):
    admin = member(tenant_a, "boss", Role.ADMIN)
    member(tenant_a, "old", Role.VIEWER, email="old@example.com")

    response = signed_in(tenant_a, admin).post(
        "/api/invitations/", {"email": "old@example.com", "role": "Admin"}
    )

    assert response.status_code == AlreadyMember.status == 409
    assert response.json() == {
        "error": {
            "code": "already_member",
            "message": "old@example.com is already a member of this tenant.",
            "fields": {},
        }
    }


def test_api_validation_errors_use_the_same_shape_with_fields(tenant_a):
    admin = member(tenant_a, "boss", Role.ADMIN)

    response = signed_in(tenant_a, admin).post("/api/invitations/", {"role": "God"})

    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"email", "role"}
    assert body["message"].startswith(("email: ", "role: "))


def test_api_not_found_and_not_authenticated_use_it_too(tenant_a):
    admin = member(tenant_a, "boss", Role.ADMIN)

    missing = signed_in(tenant_a, admin).get("/api/users/999999/")
    anonymous = client_for(tenant_a).get("/api/users/")

    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="api"'


def test_desk_refusal_is_an_error_message_never_a_success(tenant_a):
    admin = member(tenant_a, "boss", Role.ADMIN)
    member(tenant_a, "old", Role.VIEWER, email="old@example.com")

    page = signed_in(tenant_a, admin).post(
        "/admin/accounts/invitation/add/",
        {"email": "old@example.com", "role": "Admin"},
        follow=True,
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert "Old@example.com is already a member of this tenant." in text  # capitalised
    assert "successfully" not in text
    with tenant_context(tenant_a):
        assert not Invitation.objects.filter(email="old@example.com").exists()


def test_desk_last_admin_refusal_keeps_the_role(tenant_a):
    admin = member(tenant_a, "boss", Role.ADMIN)

    page = signed_in(tenant_a, admin).post(
        f"/admin/accounts/user/{admin.pk}/change/", {"role": "Viewer"}, follow=True
    )

    text = page.content.decode()
    assert "This is the last active Admin of the tenant; appoint another first." in text
    assert "successfully" not in text
    with tenant_context(tenant_a):
        admin.refresh_from_db()
        assert admin.role == Role.ADMIN
    assert LastAdminError.status == 409


def test_command_refusal_is_a_command_error_with_the_same_message(db):
    with pytest.raises(CommandError) as refused:
        call_command("provision_tenant", "admin", name="Sneaky")

    assert str(refused.value) == "The slug 'admin' is reserved by the platform; choose another."


def test_invitation_page_status_comes_from_the_error_class_not_its_text(tenant_a):
    token = invite(tenant_a, "x@example.com", Role.VIEWER)
    with tenant_context(tenant_a):
        invitation_revoke(invitation=Invitation.objects.get(email="x@example.com"))

    unknown = client_for(tenant_a).get("/invitations/not-a-real-token/")
    withdrawn = client_for(tenant_a).get(f"/invitations/{token}/")

    assert unknown.status_code == InvitationUnknown.status == 404
    assert withdrawn.status_code == InvitationUnusable.status == 410
    assert "withdrawn by an administrator" in withdrawn.content.decode()


def test_a_rolled_back_invitation_sends_no_email(tenant_a, mailoutbox):
    class Abort(Exception):
        pass

    with tenant_context(tenant_a), commit_effects(), pytest.raises(Abort), transaction.atomic():
        invitation_create(email="ghost@example.com", role=Role.VIEWER, invited_by=None)
        raise Abort

    assert mailoutbox == []
    with tenant_context(tenant_a):
        assert not Invitation.objects.filter(email="ghost@example.com").exists()


def test_a_committed_invitation_sends_exactly_one_email(tenant_a, mailoutbox):
    with tenant_context(tenant_a), commit_effects():
        invitation_create(email="real@example.com", role=Role.VIEWER, invited_by=None)

    assert [message.to for message in mailoutbox] == [["real@example.com"]]
