"""What the roles may do in accounts, and the DRF permissions that check roles.

``ROLE_GRANTS`` is discovered by ``accounts.roles`` like every app's.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.roles import Role

_OWN_TOKENS = ["accounts.add_apitoken", "accounts.view_apitoken", "accounts.delete_apitoken"]
_READ_USERS = ["accounts.view_user"]

ROLE_GRANTS: dict[str, list[str]] = {
    "Viewer": [*_READ_USERS, *_OWN_TOKENS],
    "Editor": [*_READ_USERS, *_OWN_TOKENS],
    "Admin": [
        *_READ_USERS,
        *_OWN_TOKENS,
        "accounts.change_user",
        "accounts.add_invitation",
        "accounts.view_invitation",
        "accounts.change_invitation",
        "accounts.delete_invitation",
        "accounts.view_all_apitokens",
    ],
}


def role_of(user) -> Role | None:
    if not user or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return user.role


class IsMember(BasePermission):
    """Any role in this tenant."""

    message = "You have no role in this tenant."

    def has_permission(self, request, view) -> bool:
        return role_of(request.user) is not None


class IsAdminOrReadOnly(BasePermission):
    """Members read; only Admins change."""

    message = "Only Admins can change this."

    def has_permission(self, request, view) -> bool:
        role = role_of(request.user)
        if role is None:
            return False
        return request.method in SAFE_METHODS or role == Role.ADMIN


class IsAdmin(BasePermission):
    message = "Only Admins can do this."

    def has_permission(self, request, view) -> bool:
        return role_of(request.user) == Role.ADMIN


class IsEditorOrReadOnly(BasePermission):
    """Members read; Editors and Admins change (connections, routes, replays)."""

    message = "Only Editors and Admins can change this."

    def has_permission(self, request, view) -> bool:
        role = role_of(request.user)
        if role is None:
            return False
        return request.method in SAFE_METHODS or role.rank >= Role.EDITOR.rank
