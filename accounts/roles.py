"""The three roles of a tenant and the permissions each one holds.

Roles are Django groups, one set per tenant schema. This module is the
single source of truth for what a role may do; `roles_sync` writes it into
the groups (run by a data migration and after every migrate, so permissions
of apps added later reach the roles without a manual step).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from vault.permissions import ADMIN_PERMISSIONS as VAULT_ADMIN_PERMISSIONS


class Role(enum.StrEnum):
    ADMIN = "Admin"
    EDITOR = "Editor"
    VIEWER = "Viewer"

    @property
    def rank(self) -> int:
        return {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3}[self]

    @classmethod
    def parse(cls, value: str) -> Role:
        for role in cls:
            if role.value.lower() == (value or "").strip().lower():
                return role
        raise ValueError(f"Unknown role {value!r}; use Admin, Editor or Viewer.")


_OWN_TOKENS = ["accounts.add_apitoken", "accounts.view_apitoken", "accounts.delete_apitoken"]
_READ_USERS = ["accounts.view_user"]

#: "app_label.codename" per role. Permissions of apps that are not installed
#: (yet) are skipped quietly and granted once their app migrates.
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.VIEWER: [*_READ_USERS, *_OWN_TOKENS],
    Role.EDITOR: [*_READ_USERS, *_OWN_TOKENS],
    Role.ADMIN: [
        *_READ_USERS,
        *_OWN_TOKENS,
        "accounts.change_user",
        "accounts.add_invitation",
        "accounts.view_invitation",
        "accounts.change_invitation",
        "accounts.delete_invitation",
        "accounts.view_all_apitokens",
        *VAULT_ADMIN_PERMISSIONS,
    ],
}


def _permissions_for(role: Role, permission_model) -> Iterable:
    for dotted in ROLE_PERMISSIONS[role]:
        app_label, codename = dotted.split(".", 1)
        yield from permission_model.objects.filter(
            content_type__app_label=app_label, codename=codename
        )


def roles_sync(group_model, permission_model) -> None:
    """Create the role groups and set exactly their permissions; safe to repeat.

    Takes the models as arguments so a migration can pass its historical ones.
    """
    for role in Role:
        group, _ = group_model.objects.get_or_create(name=role.value)
        group.permissions.set(list(_permissions_for(role, permission_model)))
