"""Tenant Admins cannot lock the platform out: break-glass accounts are off limits to them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.roles import Role
from accounts.services import breakglass_superuser_ensure
from tests.helpers import member, signed_in


@pytest.fixture
def breakglass(tenant_a) -> User:
    with tenant_context(tenant_a):
        return breakglass_superuser_ensure(username="breakglass", email="bg@alpha.example").user


@pytest.fixture
def admin_client(tenant_a):
    return signed_in(tenant_a, member(tenant_a, "boss", Role.ADMIN))


def _unchanged(tenant, user: User) -> None:
    with tenant_context(tenant):
        fresh = User.objects.get(pk=user.pk)
        assert (fresh.is_active, fresh.is_superuser, fresh.role) == (True, True, None)


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("patch", "/api/users/{pk}/", {"role": "Viewer"}),
        ("post", "/api/users/{pk}/deactivate/", None),
        ("post", "/api/users/{pk}/reactivate/", None),
    ],
)
def test_api_refuses_to_touch_a_breakglass_account(
    tenant_a, breakglass, admin_client, method, path, body
):
    response = getattr(admin_client, method)(
        path.format(pk=breakglass.pk), body, content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "breakglass_protected"
    assert "breakglass_superuser" in response.json()["error"]["message"]
    _unchanged(tenant_a, breakglass)


def test_desk_shows_a_breakglass_account_read_only_and_refuses_the_post(
    tenant_a, breakglass, admin_client
):
    page = admin_client.get(f"/admin/accounts/user/{breakglass.pk}/change/")
    post = admin_client.post(f"/admin/accounts/user/{breakglass.pk}/change/", {"role": "Viewer"})

    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert post.status_code == 403
    _unchanged(tenant_a, breakglass)


def test_desk_deactivate_action_reports_the_refusal_and_goes_on(tenant_a, breakglass, admin_client):
    other = member(tenant_a, "leaver", Role.VIEWER)

    page = admin_client.post(
        "/admin/accounts/user/",
        {"action": "deactivate", "_selected_action": [breakglass.pk, other.pk]},
        follow=True,
    )

    text = page.content.decode()
    assert "Breakglass: Break-glass accounts cannot be changed" in text  # the admin capitalises
    assert "1 user(s) deactivated." in text
    _unchanged(tenant_a, breakglass)
    with tenant_context(tenant_a):
        assert User.objects.get(pk=other.pk).is_active is False


def test_the_management_command_still_manages_it(tenant_a, breakglass, capsys):
    call_command("breakglass_superuser", tenant="alpha", username="breakglass", reset_password=True)

    assert "password" in capsys.readouterr().out
    _unchanged(tenant_a, breakglass)
