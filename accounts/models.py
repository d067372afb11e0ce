"""Users of one tenant (in its schema) or platform operators (in public)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    # The OpenID Connect subject: the only identity a login is matched on.
    # Empty for break-glass accounts that sign in with a local password.
    oidc_sub = models.CharField(
        "OIDC subject", max_length=255, unique=True, null=True, blank=True, editable=False
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        ordering = ["username"]
