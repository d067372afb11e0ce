"""Roles follow the identity provider where they come from it, and only there.

Through the real loopback provider: the claim is changed at the provider
between two sign-ins, as an administrator would change it in Zitadel.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings
from django_tenants.utils import tenant_context

from accounts.models import RoleSource, User
from accounts.roles import Role
from accounts.services import api_token_create
from tests.accounts.conftest import oidc_login
from tests.helpers import bearer, client_for, invite, member

pytestmark = pytest.mark.oidc
PASSWORD = "correct horse battery staple"  # the loopback provider's default


def user_of(tenant, sub: str) -> User:
    with tenant_context(tenant):
        user = User.objects.get(oidc_sub=sub)
        user.role_now = user.role  # read inside the tenant's schema
        return user


def test_claim_granted_role_is_removed_when_the_claim_stops_granting_it(idp, tenant_a):
    member(tenant_a, "boss", Role.ADMIN)  # so the Editor is not the last Admin of anything
    idp.add_user(sub="sub-cleo", email="cleo@example.com", roles={"alpha:editor": {"1": "a"}})
    assert oidc_login(client_for(tenant_a), idp, login="sub-cleo")["Location"] == "/admin/"
    cleo = user_of(tenant_a, "sub-cleo")
    assert (cleo.role_now, cleo.role_source) == (Role.EDITOR, RoleSource.IDP_CLAIM)

    # At the provider: the grant for alpha goes (one for beta stays).
    idp.add_user(sub="sub-cleo", email="cleo@example.com", roles={"beta:editor": {"1": "b"}})
    client = client_for(tenant_a)
    response = oidc_login(client, idp, login="sub-cleo")

    assert response["Location"] == "/login/refused/"
    page = client.get("/login/refused/")
    assert page.status_code == 403
    assert b"no longer grants you a role in this tenant, so your role here was removed" in (
        page.content
    )
    cleo = user_of(tenant_a, "sub-cleo")
    assert (cleo.role_now, cleo.role_source, cleo.is_active) == (None, "", True)
    assert client.get("/admin/").status_code == 302  # not signed in


def test_invited_viewer_is_not_promoted_by_a_stale_admin_claim(idp, tenant_a):
    token = invite(tenant_a, "dora@example.com", Role.VIEWER)
    idp.add_user(sub="sub-dora", email="dora@example.com", roles={"alpha:admin": {"1": "a"}})

    first = oidc_login(client_for(tenant_a), idp, login="sub-dora", start=f"/invitations/{token}/")
    again = oidc_login(client_for(tenant_a), idp, login="sub-dora")

    assert (first["Location"], again["Location"]) == ("/admin/", "/admin/")
    dora = user_of(tenant_a, "sub-dora")
    assert (dora.role_now, dora.role_source) == (Role.VIEWER, RoleSource.INVITATION)


def test_role_given_by_an_admin_survives_a_claim_that_no_longer_grants(idp, tenant_a):
    # A claim opened the door; then an Admin in Nexiom set the role: Nexiom owns it now.
    idp.add_user(sub="sub-eli", email="eli@example.com", roles={"alpha:viewer": {"1": "a"}})
    oidc_login(client_for(tenant_a), idp, login="sub-eli")
    with tenant_context(tenant_a):
        from accounts.services import user_role_set

        user_role_set(user=User.objects.get(oidc_sub="sub-eli"), role=Role.EDITOR)
    idp.add_user(sub="sub-eli", email="eli@example.com", roles=None)

    response = oidc_login(client_for(tenant_a), idp, login="sub-eli")

    assert response["Location"] == "/admin/"
    eli = user_of(tenant_a, "sub-eli")
    assert (eli.role_now, eli.role_source) == (Role.EDITOR, RoleSource.ADMIN)


def test_oidc_session_is_refreshed_at_the_provider_once_the_renew_time_passed(idp, tenant_a):
    idp.add_user(sub="sub-finn", email="finn@example.com", roles={"alpha:viewer": {"1": "a"}})
    client = client_for(tenant_a)
    oidc_login(client, idp, login="sub-finn")
    assert client.get("/admin/").status_code == 200
    renew_at = client.session["oidc_id_token_expiration"]
    assert renew_at == pytest.approx(time.time() + 3600, abs=60)

    session = client.session
    session["oidc_id_token_expiration"] = time.time() - 1
    session.save()
    response = client.get("/admin/")

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT
    )
    query = parse_qs(target.query)
    assert query["prompt"] == ["none"]
    assert query["redirect_uri"] == ["http://alpha.localhost/oidc/callback/"]


def test_refused_refresh_ends_the_session(idp, tenant_a):
    member(tenant_a, "boss2", Role.ADMIN)
    idp.add_user(sub="sub-gus", email="gus@example.com", roles={"alpha:editor": {"1": "a"}})
    client = client_for(tenant_a)
    oidc_login(client, idp, login="sub-gus")
    idp.add_user(sub="sub-gus", email="gus@example.com", roles=None)
    session = client.session
    session["oidc_id_token_expiration"] = time.time() - 1
    session.save()

    # The silent sign-in the refresh starts. A browser would still hold its
    # session at the provider; here a login at the provider stands in for it,
    # so the request goes without prompt=none (state, nonce and PKCE unchanged).
    refresh = urlsplit(client.get("/admin/")["Location"])
    query = {name: values[0] for name, values in parse_qs(refresh.query).items()}
    del query["prompt"]
    authorize = f"{settings.OIDC_OP_AUTHORIZATION_ENDPOINT}?{urlencode(query)}"
    back = urlsplit(idp.sign_in(authorize, login="sub-gus", password=PASSWORD))
    response = client.get(f"{back.path}?{back.query}")

    assert response["Location"] == "/login/refused/"
    assert b"your role here was removed" in client.get("/login/refused/").content
    assert client.get("/admin/").status_code == 302
    assert user_of(tenant_a, "sub-gus").role_now is None


def test_break_glass_sessions_and_bearer_tokens_are_not_refreshed(db, tenant_a):
    from accounts.services import breakglass_superuser_ensure

    with tenant_context(tenant_a):
        glass = breakglass_superuser_ensure(username="glass-r", email="g@example.com")
    client = client_for(tenant_a)
    signed_in = client.post(
        "/admin/login/?next=/admin/", {"username": "glass-r", "password": glass.password}
    )
    assert signed_in.status_code == 302
    assert client.get("/admin/").status_code == 200  # no renew time in this session at all

    viewer = member(tenant_a, "tok-user", Role.VIEWER)
    with tenant_context(tenant_a):
        created = api_token_create(user=viewer, name="script")
    response = client_for(tenant_a).get("/api/me/", **bearer(created.plaintext))
    assert response.status_code == 200


def test_provider_refusing_the_silent_sign_in_ends_the_session(idp, tenant_a):
    # No session at the provider (signed out, or the account deactivated there):
    # prompt=none comes back with an error instead of a code.
    idp.add_user(sub="sub-hal", email="hal@example.com", roles={"alpha:viewer": {"1": "a"}})
    client = client_for(tenant_a)
    oidc_login(client, idp, login="sub-hal")
    session = client.session
    session["oidc_id_token_expiration"] = time.time() - 1
    session.save()

    back = urlsplit(idp.sign_in(client.get("/admin/")["Location"], login="-", password="-"))
    assert "error" in parse_qs(back.query)
    response = client.get(f"{back.path}?{back.query}")

    assert response["Location"] == "/login/refused/"
    assert client.get("/admin/").status_code == 302
