"""Each tenant host trusts only its own origin for state-changing requests.

A page on beta.localhost (another company, or a hostile page there) must not
make a signed-in alpha browser post to alpha, in the API or in the Desk.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import Invitation
from accounts.roles import Role
from tests.helpers import member

CSRF_SECRET = "k" * 32  # the value of the csrftoken cookie and of the header


def browser_on_alpha(tenant_a) -> Client:
    """A signed-in Admin's browser on alpha, with CSRF checks on and a CSRF cookie."""
    admin = member(tenant_a, "boss", Role.ADMIN)
    client = Client(enforce_csrf_checks=True, HTTP_HOST="alpha.localhost:8000")
    with tenant_context(tenant_a):
        client.force_login(admin)
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


def api_post(client: Client, origin: str):
    return client.post(
        "/api/invitations/",
        {"email": "new@example.com", "role": "Viewer"},
        content_type="application/json",
        HTTP_ORIGIN=origin,
        HTTP_X_CSRFTOKEN=CSRF_SECRET,
    )


def desk_post(client: Client, origin: str):
    return client.post(
        "/admin/accounts/invitation/add/",
        {"email": "new@example.com", "role": "Viewer", "csrfmiddlewaretoken": CSRF_SECRET},
        HTTP_ORIGIN=origin,
    )


def invitations(tenant) -> list[str]:
    with tenant_context(tenant):
        return list(Invitation.objects.values_list("email", flat=True))


@pytest.mark.parametrize("send", [api_post, desk_post], ids=["api", "desk"])
def test_a_post_carrying_another_tenants_origin_is_refused(tenant_a, send):
    client = browser_on_alpha(tenant_a)

    response = send(client, "http://beta.localhost:8000")

    assert response.status_code == 403
    assert invitations(tenant_a) == []


def test_the_api_refusal_has_the_error_shape(tenant_a):
    response = api_post(browser_on_alpha(tenant_a), "http://beta.localhost:8000")

    assert response.json()["error"]["code"] == "permission_denied"
    assert "Origin checking failed" in response.json()["error"]["message"]


@pytest.mark.parametrize("send", [api_post, desk_post], ids=["api", "desk"])
def test_a_same_origin_post_passes(tenant_a, send):
    client = browser_on_alpha(tenant_a)

    response = send(client, "http://alpha.localhost:8000")

    assert response.status_code in (201, 302), response.content[:300]
    assert invitations(tenant_a) == ["new@example.com"]


@pytest.mark.parametrize("origin", ["http://localhost:8000", "https://alpha.localhost:8000"])
def test_the_platform_host_and_another_scheme_are_other_origins(tenant_a, origin):
    response = api_post(browser_on_alpha(tenant_a), origin)

    assert response.status_code == 403


def test_an_explicitly_configured_origin_is_trusted(tenant_a, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://ops.example.com"]
    client = browser_on_alpha(tenant_a)

    response = api_post(client, "https://ops.example.com")

    assert response.status_code == 201
    assert invitations(tenant_a) == ["new@example.com"]


def test_no_origin_is_trusted_by_default(settings):
    assert settings.CSRF_TRUSTED_ORIGINS == []
