"""Writes to users: the only place that creates or changes them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from accounts.models import User


@dataclass(frozen=True)
class BreakGlassResult:
    user: User
    created: bool
    password: str | None  # only set when a password was (re)generated


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
            user = User(username=username, email=email, is_staff=True, is_superuser=True)
        password = None
        if created or reset_password:
            password = secrets.token_urlsafe(18)
            user.set_password(password)
        user.is_active = True
        user.is_staff = True
        user.is_superuser = True
        user.save()
    return BreakGlassResult(user=user, created=created, password=password)
