"""The central OAuth callback, on the public host: ``/api/callback/<provider>``."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from connectors.errors import AuthorizationStateInvalid, ConnectorError
from connectors.services import oauth_callback_complete

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def oauth_callback(request: HttpRequest, provider: str) -> HttpResponse:
    """Finish an authorization and send the browser back to the connection's Desk page.

    A bad ``state`` (forged, expired, replayed, another provider's) gets a
    plain 400 page and nothing is stored.
    """
    try:
        outcome = oauth_callback_complete(provider=provider, query=request.GET.dict())
    except AuthorizationStateInvalid as error:
        logger.warning("OAuth callback for %s refused: %s", provider, error.code)
        return render(
            request, "connectors/callback_refused.html", {"reason": error.message}, status=400
        )
    except ConnectorError as error:
        return render(
            request,
            "connectors/callback_refused.html",
            {"reason": error.message},
            status=error.status,
        )
    return HttpResponseRedirect(outcome.redirect_url)
