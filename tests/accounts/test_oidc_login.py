"""The whole OIDC code flow against a real OpenID provider on loopback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import Invitation, User
from accounts.roles import Role
from accounts.services import user_deactivate
from tests.accounts.conftest import oidc_login
from tests.helpers import client_for, expire_all_invitations, invite, member

pytestmark = pytest.mark.oidc


def users_of(tenant) -> list[str]:
    with tenant_context(tenant):
        return sorted(User.objects.values_list("username", flat=True))


def test_invited_user_logs_in_and_gets_the_invited_role(idp, tenant_a):
    token = invite(tenant_a, "erin@example.com", Role.EDITOR)
    idp.add_user(sub="sub-erin", email="erin@example.com")
    client = client_for(tenant_a)

    response = oidc_login(client, idp, login="sub-erin", start=f"/invitations/{token}/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    with tenant_context(tenant_a):
        erin = User.objects.get(oidc_sub="sub-erin")
        assert erin.role == Role.EDITOR
        assert erin.email == "erin@example.com"
        assert not erin.has_usable_password()
        assert Invitation.objects.get(email="erin@example.com").status == "accepted"
    assert client.get("/admin/").status_code == 200


def test_pending_invitation_is_found_without_the_link(idp, tenant_a):
    invite(tenant_a, "fay@example.com", Role.VIEWER)
    idp.add_user(sub="sub-fay", email="FAY@example.com")

    response = oidc_login(client_for(tenant_a), idp, login="sub-fay")

    assert response["Location"] == "/admin/"
    with tenant_context(tenant_a):
        assert User.objects.get(oidc_sub="sub-fay").role == Role.VIEWER


def test_uninvited_user_is_refused_with_a_reason_and_nothing_is_created(idp, tenant_a):
    idp.add_user(sub="sub-mallory", email="mallory@example.com")
    client = client_for(tenant_a)
    before = users_of(tenant_a)

    response = oidc_login(client, idp, login="sub-mallory")

    assert response["Location"] == "/login/refused/"
    page = client.get("/login/refused/")
    assert page.status_code == 403
    assert b"no pending invitation for mallory@example.com" in page.content
    assert users_of(tenant_a) == before
    assert client.get("/admin/").status_code == 302  # still anonymous


def test_unverified_email_does_not_match_an_invitation(idp, tenant_a):
    token = invite(tenant_a, "gil@example.com", Role.ADMIN)
    idp.add_user(sub="sub-gil", email="gil@example.com", email_verified=False)
    client = client_for(tenant_a)

    response = oidc_login(client, idp, login="sub-gil", start=f"/invitations/{token}/")

    assert response["Location"] == "/login/refused/"
    assert b"not verified your email" in client.get("/login/refused/").content
    with tenant_context(tenant_a):
        assert not User.objects.filter(oidc_sub="sub-gil").exists()
        assert Invitation.objects.get(email="gil@example.com").status == "pending"


def test_invitation_link_needs_the_invited_address(idp, tenant_a):
    token = invite(tenant_a, "hal@example.com", Role.ADMIN)
    idp.add_user(sub="sub-eve", email="eve@example.com")
    client = client_for(tenant_a)

    response = oidc_login(client, idp, login="sub-eve", start=f"/invitations/{token}/")

    assert response["Location"] == "/login/refused/"
    assert b"different email address" in client.get("/login/refused/").content
    with tenant_context(tenant_a):
        assert Invitation.objects.get(email="hal@example.com").status == "pending"


def test_zitadel_role_claim_admits_a_first_login(idp, tenant_a):
    idp.add_user(
        sub="sub-ivy",
        email="ivy@example.com",
        roles={"alpha:admin": {"1234": "alpha.example"}, "beta:viewer": {"1234": "x"}},
    )

    response = oidc_login(client_for(tenant_a), idp, login="sub-ivy")

    assert response["Location"] == "/admin/"
    with tenant_context(tenant_a):
        assert User.objects.get(oidc_sub="sub-ivy").role == Role.ADMIN


def test_role_claim_for_another_tenant_opens_nothing_here(idp, tenant_a, tenant_b):
    idp.add_user(sub="sub-jon", email="jon@example.com", roles={"beta:admin": {"1": "b"}})
    before = users_of(tenant_a)

    response = oidc_login(client_for(tenant_a), idp, login="sub-jon")

    assert response["Location"] == "/login/refused/"
    assert users_of(tenant_a) == before


def test_roles_are_resynced_from_the_claim_at_each_login(idp, tenant_a):
    idp.add_user(sub="sub-kim", email="kim@example.com", roles={"alpha:viewer": {"1": "a"}})
    oidc_login(client_for(tenant_a), idp, login="sub-kim")
    idp.add_user(sub="sub-kim", email="kim@example.com", roles={"alpha:editor": {"1": "a"}})

    oidc_login(client_for(tenant_a), idp, login="sub-kim")

    with tenant_context(tenant_a):
        assert User.objects.get(oidc_sub="sub-kim").role == Role.EDITOR


def test_users_are_matched_by_sub_never_by_email(idp, tenant_a):
    member(tenant_a, "lee", Role.ADMIN, email="lee@example.com", oidc_sub="sub-lee-real")
    idp.add_user(sub="sub-lee-impostor", email="lee@example.com")

    response = oidc_login(client_for(tenant_a), idp, login="sub-lee-impostor")

    assert response["Location"] == "/login/refused/"
    with tenant_context(tenant_a):
        assert User.objects.filter(email="lee@example.com").count() == 1


def test_deactivated_user_cannot_log_in(idp, tenant_a):
    member(tenant_a, "boss", Role.ADMIN)
    mia = member(tenant_a, "mia", Role.VIEWER, oidc_sub="sub-mia")
    with tenant_context(tenant_a):
        user_deactivate(user=mia)
    idp.add_user(sub="sub-mia", email="mia@example.com", roles={"alpha:viewer": {}})

    response = oidc_login(client_for(tenant_a), idp, login="sub-mia")

    assert response["Location"] == "/login/refused/"


def test_session_of_tenant_a_is_worthless_on_tenant_b(idp, tenant_a, tenant_b):
    token = invite(tenant_a, "ned@example.com", Role.ADMIN)
    idp.add_user(sub="sub-ned", email="ned@example.com")
    client_a = client_for(tenant_a)
    oidc_login(client_a, idp, login="sub-ned", start=f"/invitations/{token}/")
    assert client_a.get("/api/me/").status_code == 200

    client_b = client_for(tenant_b)
    client_b.cookies = client_a.cookies

    assert client_b.get("/api/me/").status_code in (401, 403)
    assert client_b.get("/admin/").status_code == 302


def test_invitation_of_tenant_a_is_unknown_on_tenant_b(idp, tenant_a, tenant_b):
    token = invite(tenant_a, "ola@example.com", Role.ADMIN)

    assert client_for(tenant_b).get(f"/invitations/{token}/").status_code == 404
    assert client_for(tenant_b).post(f"/invitations/{token}/").status_code == 404
    assert client_for(tenant_a).get(f"/invitations/{token}/").status_code == 200


def test_used_invitation_link_cannot_be_reused(idp, tenant_a):
    token = invite(tenant_a, "pat@example.com", Role.VIEWER)
    idp.add_user(sub="sub-pat", email="pat@example.com")
    oidc_login(client_for(tenant_a), idp, login="sub-pat", start=f"/invitations/{token}/")

    again = client_for(tenant_a).get(f"/invitations/{token}/")

    assert again.status_code == 410
    assert b"already been used" in again.content
    assert client_for(tenant_a).post(f"/invitations/{token}/").status_code == 410


def test_expired_invitation_link_is_refused(idp, tenant_a):
    token = invite(tenant_a, "quinn@example.com", Role.VIEWER)
    expire_all_invitations(tenant_a)

    response = client_for(tenant_a).get(f"/invitations/{token}/")

    assert response.status_code == 410
    assert b"expired" in response.content


def test_forged_invitation_token_is_unknown(db, tenant_a):
    for token in ("x" * 43, "../../etc/passwd", "%00", "' OR 1=1 --"):
        assert client_for(tenant_a).get(f"/invitations/{token}/").status_code == 404


def test_tampered_state_is_rejected(idp, tenant_a):
    idp.add_user(sub="sub-ray", email="ray@example.com", roles={"alpha:admin": {}})
    client = client_for(tenant_a)
    authorize = client.get("/oidc/authenticate/")["Location"]
    back = urlsplit(idp.sign_in(authorize, login="sub-ray", password=idp.users["sub-ray"].password))
    query = parse_qs(back.query)

    response = client.get(back.path, {"code": query["code"][0], "state": "forged-state"})

    assert response.status_code == 400
    with tenant_context(tenant_a):
        assert not User.objects.filter(oidc_sub="sub-ray").exists()


def test_code_injected_into_another_login_is_rejected(idp, tenant_a):
    # A code obtained for one authorization request replayed with the state
    # of another: PKCE and the nonce both bind the code to its own request.
    idp.add_user(sub="sub-sam", email="sam@example.com", roles={"alpha:admin": {}})
    client = client_for(tenant_a)
    first = client.get("/oidc/authenticate/")["Location"]
    second = client.get("/oidc/authenticate/")["Location"]
    stolen_code = parse_qs(
        urlsplit(idp.sign_in(first, login="sub-sam", password=idp.users["sub-sam"].password)).query
    )["code"][0]
    second_state = parse_qs(urlsplit(second).query)["state"][0]

    response = client.get("/oidc/callback/", {"code": stolen_code, "state": second_state})

    assert response.status_code == 400
    with tenant_context(tenant_a):
        assert not User.objects.filter(oidc_sub="sub-sam").exists()


def test_tampered_nonce_is_rejected(idp, tenant_a):
    idp.add_user(sub="sub-uma", email="uma@example.com", roles={"alpha:admin": {}})
    client = client_for(tenant_a)
    authorize = client.get("/oidc/authenticate/")["Location"]
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    session = client.session
    session["oidc_states"][state]["nonce"] = "tampered-nonce"
    session.save()
    back = urlsplit(idp.sign_in(authorize, login="sub-uma", password=idp.users["sub-uma"].password))

    response = client.get(f"{back.path}?{back.query}")

    assert response.status_code == 400
    assert b"could not be verified" in response.content
    with tenant_context(tenant_a):
        assert not User.objects.filter(oidc_sub="sub-uma").exists()


def test_logout_ends_the_provider_session_too(idp, tenant_a):
    idp.add_user(sub="sub-tia", email="tia@example.com", roles={"alpha:viewer": {}})
    client = client_for(tenant_a)
    oidc_login(client, idp, login="sub-tia")

    response = client.post("/admin/logout/")

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{idp.issuer}/session/end"
    params = parse_qs(target.query)
    assert params["post_logout_redirect_uri"] == ["http://alpha.localhost/admin/login/"]
    assert params["id_token_hint"][0].count(".") == 2
    assert client.get("/admin/").status_code == 302


def test_password_login_is_for_break_glass_superusers_only(db, tenant_a):
    from accounts.services import breakglass_superuser_ensure

    with tenant_context(tenant_a):
        glass = breakglass_superuser_ensure(username="glass", email="g@example.com")
        viewer = User.objects.create(username="vic", is_staff=True)
        viewer.set_password("a-long-enough-password")
        viewer.save()
    client = Client(HTTP_HOST="alpha.localhost")

    assert client.login(username="vic", password="a-long-enough-password") is False
    ok = client.post(
        "/admin/login/?next=/admin/", {"username": "glass", "password": glass.password}
    )
    assert ok.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_desk_login_page_offers_company_sign_in(db, tenant_a):
    page = client_for(tenant_a).get("/admin/login/?next=/admin/")

    assert b'id="sso-login"' in page.content
    assert b"/oidc/authenticate/?next=/admin/" in page.content
