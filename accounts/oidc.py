"""OpenID Connect login (mozilla-django-oidc), standard OIDC configured for Zitadel.

The backend delegates the decision to `accounts.services.oidc_login_resolve`;
a refused login leaves its reason in the session for the page that explains
it. Logout also ends the session at the provider (RP-initiated logout).
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.middleware import SessionRefresh
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from accounts.services import LoginRefused, oidc_login_resolve

logger = logging.getLogger(__name__)

#: Session key holding the hash of the invitation link being accepted.
INVITATION_SESSION_KEY = "nexiom_invitation_token_hash"
REFUSAL_SESSION_KEY = "nexiom_login_refused"


class NexiomOIDCBackend(OIDCAuthenticationBackend):
    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if claims.get("sub") != payload.get("sub"):
            # OIDC Core 5.3.2: userinfo must describe the ID token's subject.
            raise SuspiciousOperation("userinfo subject differs from the ID token's")
        session = self.request.session
        try:
            user = oidc_login_resolve(
                claims=claims, invitation_token_hash=session.get(INVITATION_SESSION_KEY)
            )
        except LoginRefused as refusal:
            session[REFUSAL_SESSION_KEY] = refusal.reason
            logger.info("OIDC login refused for sub %s", claims.get("sub"))
            return None
        session.pop(INVITATION_SESSION_KEY, None)
        return user

    def get_user(self, user_id):
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        return user


class ProviderSessionRefresh(SessionRefresh):
    """Re-check at the provider only sessions the provider signed in.

    Every OIDC sign-in stores its ID token in the session (OIDC_STORE_ID_TOKEN);
    a session without one (break-glass password, a test's force_login) has
    nothing to refresh. Bearer-token API calls carry no session at all.
    """

    def is_refreshable_url(self, request: HttpRequest) -> bool:
        return bool(request.session.get("oidc_id_token")) and super().is_refreshable_url(request)


class NexiomCallbackView(OIDCAuthenticationCallbackView):
    """The provider's redirect back: tampering gets a clear 400, not a server error."""

    def login_failure(self) -> HttpResponse:
        # A refused session refresh (SessionRefresh's silent sign-in) must end
        # the session it was refreshing; mozilla-django-oidc only does so when
        # the provider itself answers with an error.
        request = self.request
        if request.user.is_authenticated:
            reason = request.session.get(REFUSAL_SESSION_KEY)
            auth.logout(request)
            if reason:
                request.session[REFUSAL_SESSION_KEY] = reason
        return super().login_failure()

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            return super().get(request)
        except SuspiciousOperation as exc:
            logger.warning("OIDC callback rejected: %s", exc)
            reason = "The sign-in response could not be verified. Start the sign-in again."
            status = 400
        except requests.HTTPError as exc:
            # The provider refused the code (replayed, forged, PKCE mismatch).
            logger.warning("OIDC token exchange refused: HTTP %s", exc.response.status_code)
            reason = "Your identity provider did not confirm the sign-in. Start it again."
            status = 400
        except requests.RequestException:
            logger.warning("OIDC provider unreachable during sign-in", exc_info=True)
            reason = "Your identity provider cannot be reached right now. Try again shortly."
            status = 502
        return render(request, "accounts/login_refused.html", {"reason": reason}, status=status)


def provider_logout_url(request: HttpRequest) -> str:
    """End-session URL at the provider (used by mozilla-django-oidc's logout view)."""
    post_logout = request.build_absolute_uri(settings.LOGOUT_REDIRECT_URL)
    params = {"post_logout_redirect_uri": post_logout, "client_id": settings.OIDC_RP_CLIENT_ID}
    id_token = request.session.get("oidc_id_token")
    if id_token:
        params["id_token_hint"] = id_token
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{urlencode(params)}"


def login_refused(request: HttpRequest) -> HttpResponse:
    reason = request.session.pop(REFUSAL_SESSION_KEY, None) or (
        "The sign-in did not complete. Start again from the Desk's sign-in page."
    )
    return render(request, "accounts/login_refused.html", {"reason": reason}, status=403)
