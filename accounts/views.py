"""Pages of the invitation flow on the tenant host."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from accounts.oidc import INVITATION_SESSION_KEY
from accounts.services import InvitationError, invitation_get_pending
from accounts.services.invitations import token_hash
from tenants.services import tenant_current


class InvitationView(View):
    """GET shows the invitation; POST remembers it and starts the OIDC sign-in.

    The link is looked up in this host's schema only, so another tenant's
    link is simply unknown here (404).
    """

    template_name = "accounts/invitation.html"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            invitation = invitation_get_pending(token=token)
        except InvitationError as exc:
            return self._refused(request, exc)
        context = {"invitation": invitation, "tenant": tenant_current()}
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            invitation_get_pending(token=token)
        except InvitationError as exc:
            return self._refused(request, exc)
        request.session[INVITATION_SESSION_KEY] = token_hash(token)
        query = urlencode({"next": reverse("admin:index")})
        return HttpResponseRedirect(f"{reverse('oidc_authentication_init')}?{query}")

    def _refused(self, request: HttpRequest, error: InvitationError) -> HttpResponse:
        # Unknown here: 404; known but used, withdrawn or expired: 410.
        return render(request, self.template_name, {"error": error.message}, status=error.status)
