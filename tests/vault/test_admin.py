"""The Desk: secrets as masks with write-only data; the audit of reads is read-only."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django_tenants.utils import schema_context

from accounts.roles import Role, role_grants_discover
from tests.factories import UserFactory
from tests.helpers import client_for
from tests.vault.helpers import on_own_connection
from vault.errors import SecretTampered
from vault.models import Secret, SecretRead
from vault.permissions import ROLE_GRANTS
from vault.services import secret_reveal, secret_seal

API_KEY = "sk_live_desk_0123456789"
DATA = {"api_key": API_KEY, "account": "acct-desk-445566"}


def _client(tenant, **user_fields):
    with schema_context(tenant.schema_name):
        user = UserFactory(is_staff=True, **user_fields)
        client = client_for(tenant)
        client.force_login(user)
    return client, user


@pytest.fixture
def superuser_client(tenant_a):
    return _client(tenant_a, username="root-a", is_superuser=True)[0]


@pytest.fixture
def admin_role_client(tenant_a):
    """A tenant Admin: a group holding vault.permissions.ROLE_GRANTS["Admin"]."""
    client, user = _client(tenant_a, username="admin-a")
    with schema_context(tenant_a.schema_name):
        group = Group.objects.create(name="vault-admins")
        for dotted in ROLE_GRANTS["Admin"]:
            app_label, codename = dotted.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        user.groups.add(group)
    return client


@pytest.fixture
def sealed(tenant_a):
    """A secret, and the audit row of one reveal, committed (as the Desk would find it)."""
    with schema_context(tenant_a.schema_name):
        secret = secret_seal(data=DATA, purpose="acme.api_key")
    on_own_connection(
        lambda: secret_reveal(secret=secret, reason="nightly sync", actor="pipeline.sync"),
        schema=tenant_a.schema_name,
    )
    with schema_context(tenant_a.schema_name):
        return secret, SecretRead.objects.get()


def _assert_no_plaintext(response):
    body = response.content.decode()
    assert API_KEY not in body and "acct-desk-445566" not in body


def test_a_secret_is_added_through_a_write_only_field(superuser_client, tenant_a):
    response = superuser_client.post(
        "/admin/vault/secret/add/", {"purpose": "acme.api_key", "data": json.dumps(DATA)}
    )

    assert response.status_code == 302
    with schema_context(tenant_a.schema_name):
        secret = Secret.objects.get()
        assert secret_reveal(secret=secret, reason="check", actor="tests") == DATA
    listing = superuser_client.get("/admin/vault/secret/")
    _assert_no_plaintext(listing)
    assert "•••• (2 fields, key v1)" in listing.content.decode()
    follow = superuser_client.get(response["Location"])
    _assert_no_plaintext(follow)


def test_the_change_page_never_renders_the_data(superuser_client, sealed):
    secret, _ = sealed

    response = superuser_client.get(f"/admin/vault/secret/{secret.pk}/change/")

    assert response.status_code == 200
    _assert_no_plaintext(response)
    body = response.content.decode()
    assert "•••• (2 fields, key v1)" in body
    textarea = body[body.index('<textarea name="data"') :]
    assert textarea[: textarea.index("</textarea>")].endswith(">\n")  # empty


def test_new_data_replaces_the_secret_and_empty_data_keeps_it(superuser_client, sealed, tenant_a):
    secret, _ = sealed
    url = f"/admin/vault/secret/{secret.pk}/change/"
    new = {"api_key": "sk_live_desk_rotated_000"}

    kept = superuser_client.post(url, {"data": ""})
    replaced = superuser_client.post(url, {"data": json.dumps(new)})

    assert (kept.status_code, replaced.status_code) == (302, 302)
    with schema_context(tenant_a.schema_name):
        row = Secret.objects.get(pk=secret.pk)
        assert (row.purpose, row.field_count) == ("acme.api_key", 1)
        assert secret_reveal(secret=row, reason="check", actor="tests") == new


@pytest.mark.parametrize(
    "typed, error",
    [
        ('{"api_key": "sk_live_desk_0123456789"', "Enter a valid JSON."),
        ('["sk_live_desk_0123456789"]', "A secret holds a JSON object (a dict of fields)"),
    ],
    ids=["broken json", "not an object"],
)
def test_an_invalid_entry_is_not_echoed_back(superuser_client, tenant_a, typed, error):
    response = superuser_client.post(
        "/admin/vault/secret/add/", {"purpose": "acme.api_key", "data": typed}
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    _assert_no_plaintext(response)
    with schema_context(tenant_a.schema_name):
        assert not Secret.objects.exists()


def test_a_bad_purpose_is_refused_in_the_form(superuser_client, tenant_a):
    response = superuser_client.post(
        "/admin/vault/secret/add/", {"purpose": "Not A Purpose", "data": json.dumps(DATA)}
    )

    assert response.status_code == 200
    assert "A purpose is 1-100 lowercase letters" in response.content.decode()
    _assert_no_plaintext(response)


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/admin/vault/secret/", 200),
        ("GET", "/admin/vault/secret/{secret}/change/", 200),
        ("POST", "/admin/vault/secret/{secret}/change/", 403),
        ("GET", "/admin/vault/secret/add/", 403),
        ("GET", "/admin/vault/secret/{secret}/delete/", 403),
        ("GET", "/admin/vault/secretread/", 200),
        ("GET", "/admin/vault/secretread/{read}/change/", 200),
        ("POST", "/admin/vault/secretread/{read}/change/", 403),
        ("GET", "/admin/vault/secretread/add/", 403),
        ("GET", "/admin/vault/secretread/{read}/delete/", 403),
    ],
)
def test_a_tenant_admin_sees_masks_and_the_audit_read_only(
    admin_role_client, sealed, tenant_a, method, path, status
):
    secret, read = sealed
    url = path.format(secret=secret.pk, read=read.pk)

    if method == "POST":
        response = admin_role_client.post(url, {"data": json.dumps({"api_key": "x"})})
    else:
        response = admin_role_client.get(url)

    assert response.status_code == status
    _assert_no_plaintext(response)
    with schema_context(tenant_a.schema_name):
        assert Secret.objects.get().key_version == 1  # nothing changed
        assert secret_reveal(secret=Secret.objects.get(), reason="check", actor="tests") == DATA


def test_the_audit_lists_who_why_when_and_which_secret(admin_role_client, sealed):
    secret, read = sealed

    listing = admin_role_client.get("/admin/vault/secretread/").content.decode()
    detail = admin_role_client.get(f"/admin/vault/secretread/{read.pk}/change/").content.decode()

    for body in (listing, detail):
        assert "nightly sync" in body and "pipeline.sync" in body and str(secret.pk) in body
    assert 'name="_save"' not in detail  # read-only: no save button


@pytest.mark.parametrize(
    "path", ["/admin/vault/secretread/add/", "/admin/vault/secretread/{read}/delete/"]
)
def test_nobody_adds_or_deletes_audit_rows_not_even_a_superuser(superuser_client, sealed, path):
    response = superuser_client.get(path.format(read=sealed[1].pk))

    assert response.status_code == 403


def test_a_staff_user_without_vault_permissions_sees_nothing(tenant_a, sealed):
    client, _ = _client(tenant_a, username="plain-a")

    assert client.get("/admin/vault/secret/").status_code == 403
    assert client.get("/admin/vault/secretread/").status_code == 403


def test_a_secret_of_another_tenant_is_not_found(superuser_client, tenant_b):
    with schema_context(tenant_b.schema_name):
        other = secret_seal(data={"api_key": "sk_live_beta_0123456"}, purpose="beta.api_key")

    response = superuser_client.get(f"/admin/vault/secret/{other.pk}/change/", follow=True)

    assert response.redirect_chain[-1][0] == "/admin/"
    assert "beta.api_key" not in response.content.decode()


def test_the_admin_role_of_accounts_grants_the_vault_permissions(tenant_a):
    with schema_context(tenant_a.schema_name):
        existing = {
            f"vault.{codename}"
            for codename in Permission.objects.filter(content_type__app_label="vault").values_list(
                "codename", flat=True
            )
        }

    assert set(ROLE_GRANTS["Admin"]) <= existing
    assert set(ROLE_GRANTS["Admin"]) <= set(role_grants_discover()[Role.ADMIN])


def test_the_audit_shows_a_failed_attempt_and_why(admin_role_client, tenant_a):
    with schema_context(tenant_a.schema_name):
        secret = secret_seal(data=DATA, purpose="acme.api_key")
        Secret.objects.filter(pk=secret.pk).update(purpose="acme.other")
        damaged = Secret.objects.get(pk=secret.pk)

    def attempt():
        with pytest.raises(SecretTampered):
            secret_reveal(secret=damaged, reason="nightly sync", actor="pipeline.sync")

    on_own_connection(attempt, schema=tenant_a.schema_name)

    listing = admin_role_client.get("/admin/vault/secretread/?outcome=failed").content.decode()
    assert "Failed" in listing and "pipeline.sync" in listing
    assert f"secret_tampered: secret {secret.pk} (purpose acme.other)" in listing
    _assert_no_plaintext(admin_role_client.get("/admin/vault/secretread/"))
