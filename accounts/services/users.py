"""Users and their one role per tenant."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from accounts.errors import BreakGlassProtected, LastAdminError, RoleInvalid
from accounts.models import RoleSource, User
from accounts.roles import Role

__all__ = [
    "BreakGlassResult",
    "LastAdminError",
    "breakglass_superuser_ensure",
    "user_deactivate",
    "user_reactivate",
    "user_role_set",
]


@dataclass(frozen=True)
class BreakGlassResult:
    user: User
    created: bool
    password: str | None  # only set when a password was (re)generated


def _active_admin_ids() -> set[int]:
    return set(
        User.objects.filter(is_active=True, groups__name=Role.ADMIN.value).values_list(
            "pk", flat=True
        )
    )


def _ensure_not_last_admin(user: User) -> None:
    # Lock the Admin rows so two concurrent demotions can't both pass the check.
    list(
        User.objects.select_for_update()
        .filter(is_active=True, groups__name=Role.ADMIN.value)
        .values_list("pk", flat=True)
    )
    if _active_admin_ids() == {user.pk}:
        raise LastAdminError("This is the last active Admin of the tenant; appoint another first.")


def _ensure_not_breakglass(user: User) -> None:
    # A tenant Admin must not be able to lock the platform's way back in out:
    # break-glass accounts change only through the management command.
    if user.is_superuser:
        raise BreakGlassProtected()


def _role_parse(role: Role | str) -> Role:
    if isinstance(role, Role):
        return role
    try:
        return Role.parse(role)
    except ValueError as exc:
        raise RoleInvalid(str(exc), fields={"role": [str(exc)]}) from exc


def user_role_set(*, user: User, role: Role | str, source: RoleSource = RoleSource.ADMIN) -> User:
    """Give the user exactly this role (replacing any other), recording who gave it.

    ``source`` decides what later sign-ins may do with it (accounts.services.login).
    """
    _ensure_not_breakglass(user)
    role = _role_parse(role)
    with transaction.atomic():
        if user.role == Role.ADMIN and role != Role.ADMIN and user.is_active:
            _ensure_not_last_admin(user)
        role_groups = Group.objects.filter(name__in=[r.value for r in Role])
        user.groups.remove(*role_groups)
        user.groups.add(Group.objects.get(name=role.value))
        user.is_staff = True  # every member may enter the Desk; permissions do the rest
        user.role_source = source
        user.save(update_fields=["is_staff", "role_source"])
    return user


def user_deactivate(*, user: User) -> User:
    """Block the user's logins and API tokens; their history stays."""
    _ensure_not_breakglass(user)
    with transaction.atomic():
        if user.role == Role.ADMIN and user.is_active:
            _ensure_not_last_admin(user)
        user.is_active = False
        # Open sessions die too: both auth backends refuse inactive users.
        user.save(update_fields=["is_active"])
    return user


def user_reactivate(*, user: User) -> User:
    _ensure_not_breakglass(user)
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


def breakglass_superuser_ensure(
    *, username: str, email: str, reset_password: bool = False
) -> BreakGlassResult:
    """A local-password superuser for when OIDC is down; safe to repeat.

    A new account, or one whose password is reset, gets a random password
    returned once to the operator; it is never stored in clear.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        created = user is None
        if created:
            user = User(username=username, email=email)
        password = None
        if created or reset_password:
            password = secrets.token_urlsafe(18)
            user.set_password(password)
        user.is_active = True
        user.is_staff = True
        user.is_superuser = True
        user.save()
    return BreakGlassResult(user=user, created=created, password=password)
