"""Roles discover each app's ROLE_GRANTS (permissions.py), the way the admin finds admin.py."""

from __future__ import annotations

import importlib.machinery
import sys
import types

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django_tenants.utils import tenant_context

import accounts.permissions
import vault.permissions
from accounts.roles import Role, role_grants_discover


def test_every_apps_grants_reach_the_roles():
    grants = role_grants_discover()

    assert set(vault.permissions.ROLE_GRANTS["Admin"]) <= set(grants[Role.ADMIN])
    assert set(accounts.permissions.ROLE_GRANTS["Viewer"]) <= set(grants[Role.VIEWER])
    assert "accounts.add_invitation" not in grants[Role.EDITOR]


def test_the_groups_hold_exactly_the_discovered_grants(tenant_a):
    grants = role_grants_discover()

    with tenant_context(tenant_a):
        for role in Role:
            held = {
                f"{app}.{codename}"
                for app, codename in Group.objects.get(name=role.value).permissions.values_list(
                    "content_type__app_label", "codename"
                )
            }
            assert held == set(grants[role]), role


@pytest.fixture
def vault_grants_replaced(monkeypatch):
    """Swap vault's permissions module for a hand-made one (restored afterwards)."""

    def replace(grants: dict) -> None:
        module = types.ModuleType("vault.permissions")
        module.__spec__ = importlib.machinery.ModuleSpec("vault.permissions", None)
        module.ROLE_GRANTS = grants
        monkeypatch.setitem(sys.modules, "vault.permissions", module)

    return replace


def test_a_grant_for_an_unknown_role_stops_start_up(vault_grants_replaced):
    vault_grants_replaced({"Owner": ["vault.view_secret"]})

    with pytest.raises(ImproperlyConfigured, match=r"vault.permissions.ROLE_GRANTS: Unknown role"):
        role_grants_discover()


def test_a_malformed_permission_name_stops_start_up(vault_grants_replaced):
    vault_grants_replaced({"Admin": ["view_secret"]})

    with pytest.raises(ImproperlyConfigured, match=r"is not 'app_label\.codename'"):
        role_grants_discover()


def test_an_app_adds_grants_without_editing_accounts(vault_grants_replaced):
    vault_grants_replaced({"Editor": ["vault.view_secretread"]})

    grants = role_grants_discover()

    assert "vault.view_secretread" in grants[Role.EDITOR]
    assert apps.get_app_config("vault")  # the app is the only thing that changed
