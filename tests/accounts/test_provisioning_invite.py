"""provision_tenant --admin-email invites the first Admin; a bad address undoes everything."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context, schema_exists

from accounts.models import Invitation
from tenants.models import Domain, Tenant
from tests.helpers import LINK_RE, commit_effects


def test_first_admin_is_invited_on_the_tenant_host(db, mailoutbox, capsys):
    with commit_effects():
        call_command("provision_tenant", "gamma", name="Gamma", admin_email="boss@gamma.example")

    link = LINK_RE.search(mailoutbox[-1].body)
    assert link["host"] == "gamma.localhost:8000"
    with schema_context("gamma"):
        invitation = Invitation.objects.get()
        assert (invitation.email, invitation.role, invitation.status) == (
            "boss@gamma.example",
            "Admin",
            "pending",
        )
    assert "Tenant URL: http://gamma.localhost:8000/" in capsys.readouterr().out


def test_rerun_does_not_invite_twice(db, mailoutbox):
    with commit_effects():
        call_command("provision_tenant", "gamma", name="Gamma", admin_email="boss@gamma.example")
    with commit_effects():
        call_command("provision_tenant", "gamma", name="Gamma", admin_email="boss@gamma.example")

    assert len(mailoutbox) == 1
    with schema_context("gamma"):
        assert Invitation.objects.count() == 1


def test_bad_admin_email_rolls_the_whole_tenant_back(db, mailoutbox):
    with pytest.raises(CommandError, match="not a valid email"), commit_effects():
        call_command("provision_tenant", "gamma", name="Gamma", admin_email="not-an-address")

    assert not Tenant.objects.filter(slug="gamma").exists()
    assert not Domain.objects.filter(domain="gamma.localhost").exists()
    assert not schema_exists("gamma")
    assert mailoutbox == []


def test_new_tenant_has_the_three_roles_with_permissions(db):
    call_command("provision_tenant", "gamma", name="Gamma")

    from django.contrib.auth.models import Group

    with schema_context("gamma"):
        perms = {
            group.name: set(group.permissions.values_list("codename", flat=True))
            for group in Group.objects.all()
        }
    assert set(perms) == {"Admin", "Editor", "Viewer"}
    assert "add_invitation" in perms["Admin"]
    assert "add_invitation" not in perms["Editor"]
    assert perms["Viewer"] >= {"view_user"}
    assert "change_user" not in perms["Viewer"]
