"""Local password sign-in for break-glass superusers, throttled by django-axes.

Everyone else signs in through OIDC. Password attempts are counted per
tenant and username, and per client address (django-axes, tables in the
public schema so platform operators see every tenant's attempts in one
place). The username key is ``<schema>:<username>``: break-glass accounts
are per tenant, so failures on one tenant never lock the same name on
another. The address key is platform-wide on purpose: an address that
guesses passwords on several tenants' sign-in pages is one attacker, and a
per-tenant key would let it try the limit on every tenant.

OIDC sign-ins are outside all of this: the provider throttles its own
password form, and a refused OIDC callback is not a guessed password.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

logger = logging.getLogger(__name__)

#: Each lockout doubles the wait, up to this.
MAX_COOLOFF = timedelta(days=1)


class BreakGlassBackend(AxesStandaloneBackend, ModelBackend):
    """Local password login, for break-glass superusers only; everyone else uses OIDC."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None or request is None:
            # Not a password sign-in (the OIDC callback passes nonce and code
            # verifier), or one without a client to throttle: nothing to check.
            return None
        # Raises PermissionDenied while locked out, even for the right password.
        AxesStandaloneBackend.authenticate(self, request, username, password, **kwargs)
        return ModelBackend.authenticate(self, request, username, password, **kwargs)

    def user_can_authenticate(self, user) -> bool:
        return bool(super().user_can_authenticate(user) and user.is_superuser)


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the lockout key and the name operators see."""
    username = credentials.get("username") if credentials else request.POST.get("username")
    return f"{connection.schema_name}:{username}" if username else None


def axes_not_a_password_attempt(request: HttpRequest, credentials: dict | None) -> bool:
    """AXES_WHITELIST_CALLABLE: only password sign-ins are counted or locked."""
    return not credentials or "password" not in credentials


def axes_cooloff(request: HttpRequest | None) -> timedelta:
    """AXES_COOLOFF_TIME: the base wait, doubled by every lockout of this
    username or address in the last day (failures while locked out count)."""
    base = timedelta(minutes=settings.NEXIOM_BREAKGLASS_COOLOFF_MINUTES)
    if request is None:
        return base
    recent = AccessFailureLog.objects.filter(
        locked_out=True, attempt_time__gte=timezone.now() - timedelta(days=1)
    )
    username = axes_username(request, None)
    address = getattr(request, "axes_ip_address", None)
    lockouts = max(
        recent.filter(username=username).count() if username else 0,
        recent.filter(ip_address=address).count() if address else 0,
    )
    return min(base * 2 ** min(max(lockouts - 1, 0), 16), MAX_COOLOFF)


def _wait_in_words(wait: timedelta) -> str:
    minutes = max(1, round(wait.total_seconds() / 60))
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{round(minutes / 60)} hours"


def axes_lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a page that says what happened and how long to wait."""
    wait = get_cool_off(request) or timedelta(0)
    logger.warning(
        "break-glass sign-in locked out: %s from %s for %s",
        axes_username(request, credentials),
        getattr(request, "axes_ip_address", None),
        wait,
    )
    context = {"wait": _wait_in_words(wait), "retry_at": timezone.now() + wait}
    return render(request, "accounts/breakglass_locked.html", context, status=429)


def axes_client_address(request: HttpRequest) -> str:
    """The address to count failures against.

    Behind a proxy (``NEXIOM_BEHIND_PROXY``) every request comes from the
    proxy, so counting ``REMOTE_ADDR`` would lock everyone out together; the
    proxy appends the real client to ``X-Forwarded-For``, and only its last
    entry is trustworthy (earlier ones are whatever the client sent).
    """
    if getattr(settings, "NEXIOM_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "")
