"""The three roles of a tenant, and the discovery of what each may do.

Roles are Django groups, one set per tenant schema. What a role may do is
declared by each app in its own ``permissions.py`` as ``ROLE_GRANTS``
(``{"Admin": ["app.codename", ...], "Editor": [...], "Viewer": [...]}``),
the way the admin finds ``admin.py``: a new app adds its grants in its own
folder and never edits a list here. ``roles_sync`` writes them into the
groups (run by a data migration and after every migrate, so permissions of
apps added later reach the roles without a manual step).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from importlib import import_module

from django.apps import apps as django_apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import module_has_submodule

GRANTS_MODULE = "permissions"
GRANTS_NAME = "ROLE_GRANTS"


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


def role_grants_discover() -> dict[Role, list[str]]:
    """Every installed app's ``ROLE_GRANTS``, merged per role, in app order.

    Permissions of apps whose tables are not migrated yet are skipped quietly
    by ``roles_sync`` and granted once their app migrates.
    """
    grants: dict[Role, list[str]] = {role: [] for role in Role}
    for app_config in django_apps.get_app_configs():
        if not module_has_submodule(app_config.module, GRANTS_MODULE):
            continue
        module = import_module(f"{app_config.name}.{GRANTS_MODULE}")
        declared = getattr(module, GRANTS_NAME, None)
        if declared is None:
            continue
        for role_name, permissions in declared.items():
            try:
                role = Role.parse(role_name)
            except ValueError as exc:
                raise ImproperlyConfigured(f"{module.__name__}.{GRANTS_NAME}: {exc}") from exc
            for dotted in permissions:
                if dotted.count(".") != 1:
                    raise ImproperlyConfigured(
                        f"{module.__name__}.{GRANTS_NAME}: {dotted!r} is not 'app_label.codename'."
                    )
                if dotted not in grants[role]:
                    grants[role].append(dotted)
    return grants


def _permissions_for(dotted_names: list[str], permission_model) -> Iterable:
    for dotted in dotted_names:
        app_label, codename = dotted.split(".", 1)
        yield from permission_model.objects.filter(
            content_type__app_label=app_label, codename=codename
        )


def roles_sync(group_model, permission_model) -> None:
    """Create the role groups and set exactly their permissions; safe to repeat.

    Takes the models as arguments so a migration can pass its historical ones.
    """
    grants = role_grants_discover()
    for role in Role:
        group, _ = group_model.objects.get_or_create(name=role.value)
        group.permissions.set(list(_permissions_for(grants[role], permission_model)))
