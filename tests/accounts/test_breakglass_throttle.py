"""Break-glass password sign-in is throttled per tenant and username, and per address.

Through the real Desk login page (Django test client), with django-axes
recording in the public schema on the real PostgreSQL.
"""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client
from django_tenants.utils import schema_context, tenant_context

from accounts.roles import Role
from accounts.services import breakglass_superuser_ensure
from tests.accounts.conftest import oidc_login
from tests.helpers import client_for, member

USERNAME = "glass-t"
WRONG = "not-the-password"


def breakglass(tenant) -> str:
    with tenant_context(tenant):
        return breakglass_superuser_ensure(
            username=USERNAME, email="g@example.com", reset_password=True
        ).password


def sign_in(tenant, password: str, *, address: str = "10.0.0.1", username: str = USERNAME):
    client = Client(HTTP_HOST=f"{tenant.slug}.localhost", REMOTE_ADDR=address)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    return client, response


def test_failures_lock_the_account_for_a_growing_time_with_a_clear_page(tenant_a, caplog):
    password = breakglass(tenant_a)
    caplog.set_level(logging.WARNING)

    for _ in range(4):
        _, failed = sign_in(tenant_a, WRONG)
        assert failed.status_code == 200
        assert b"Please enter the correct" in failed.content
    _, fifth = sign_in(tenant_a, WRONG)
    client, right_but_locked = sign_in(tenant_a, password)

    assert fifth.status_code == 429
    assert b"Too many failed password sign-ins" in fifth.content
    assert b"locked for\n5 minutes" in fifth.content
    assert right_but_locked.status_code == 429
    assert b"locked for\n10 minutes" in right_but_locked.content  # the wait grows
    assert client.get("/admin/").status_code == 302  # not signed in
    attempt = AccessAttempt.objects.get(username=f"alpha:{USERNAME}")
    assert (attempt.ip_address, attempt.failures_since_start) == ("10.0.0.1", 6)
    assert AccessFailureLog.objects.filter(username=f"alpha:{USERNAME}").count() == 6
    assert AccessFailureLog.objects.filter(locked_out=True).count() == 2
    logged = [r.getMessage() for r in caplog.records]
    assert any("Locking out" in line and f"alpha:{USERNAME}" in line for line in logged)
    assert any(
        line.startswith(f"break-glass sign-in locked out: alpha:{USERNAME}") for line in logged
    )


def test_a_lockout_on_one_tenant_does_not_lock_the_same_name_on_another(tenant_a, tenant_b):
    breakglass(tenant_a)
    password_b = breakglass(tenant_b)
    for _ in range(5):
        sign_in(tenant_a, WRONG, address="10.0.0.1")

    client, response = sign_in(tenant_b, password_b, address="10.0.0.2")

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_client_address_is_locked_whatever_the_usernames_it_tries(tenant_a):
    password = breakglass(tenant_a)
    for n in range(5):
        sign_in(tenant_a, WRONG, address="10.0.0.9", username=f"guess-{n}")

    _, response = sign_in(tenant_a, password, address="10.0.0.9")
    _, elsewhere = sign_in(tenant_a, password, address="10.0.0.10")

    assert response.status_code == 429
    assert elsewhere.status_code == 302


def test_behind_a_proxy_the_forwarded_client_is_counted_not_the_proxy(tenant_a, settings):
    settings.NEXIOM_BEHIND_PROXY = True
    password = breakglass(tenant_a)
    proxy = "10.9.9.9"

    def via_proxy(client_address: str, username: str, secret: str):
        client = Client(
            HTTP_HOST=f"{tenant_a.slug}.localhost",
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"6.6.6.6, {client_address}",  # the first hop is client-made
        )
        return client.post("/admin/login/?next=/admin/", {"username": username, "password": secret})

    for n in range(5):
        via_proxy("203.0.113.7", f"guess-{n}", WRONG)
    attacker = via_proxy("203.0.113.7", USERNAME, password)
    colleague = via_proxy("198.51.100.4", USERNAME, password)

    assert attacker.status_code == 429
    assert colleague.status_code == 302  # the proxy's address was never locked


@pytest.mark.oidc
def test_oidc_sign_in_is_neither_counted_nor_locked(idp, tenant_a):
    breakglass(tenant_a)
    for _ in range(5):  # the test client's own address (127.0.0.1) is now locked
        sign_in(tenant_a, WRONG, address="127.0.0.1")
    before = list(AccessAttempt.objects.values_list("username", "failures_since_start"))
    idp.add_user(sub="sub-ozzy", email="ozzy@example.com", roles={"alpha:viewer": {"1": "a"}})
    idp.add_user(sub="sub-nobody", email="nobody@example.com")

    accepted = oidc_login(client_for(tenant_a), idp, login="sub-ozzy")
    refused = oidc_login(client_for(tenant_a), idp, login="sub-nobody")

    assert accepted["Location"] == "/admin/"
    assert refused["Location"] == "/login/refused/"
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == before


def test_attempts_are_visible_to_platform_operators_only(tenant_a):
    breakglass(tenant_a)
    for _ in range(5):
        sign_in(tenant_a, WRONG)
    platform = Client(HTTP_HOST="localhost")
    with schema_context("public"):
        operator = breakglass_superuser_ensure(username="operator", email="op@example.com").user
        platform.force_login(operator)
    tenant_admin = client_for(tenant_a)
    tenant_admin.force_login(member(tenant_a, "desk-admin", Role.ADMIN))

    attempts = platform.get("/admin/axes/accessattempt/")
    failures = platform.get("/admin/axes/accessfailurelog/")

    assert attempts.status_code == 200
    assert f"alpha:{USERNAME}".encode() in attempts.content
    assert failures.status_code == 200
    assert b"10.0.0.1" in failures.content
    assert tenant_admin.get("/admin/axes/accessattempt/").status_code == 404
