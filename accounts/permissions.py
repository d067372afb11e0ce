"""DRF permissions from the tenant roles (see accounts.roles)."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.roles import Role


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
