"""Host-based tenant routing.

django-tenants picks the schema from the host; this adds the platform's
rules: an unknown host is a 404 (never the public site), a suspended
tenant's host answers 403 before any view runs, and PostgreSQL being down is a
503 with ``Retry-After`` (never a 500): the host's lookup is the first query of
every request, so without this a sender (Revenova retries on 503) saw a crash.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.models import Tenant

logger = logging.getLogger(__name__)
#: Seconds a client is asked to wait before trying again while PostgreSQL is away.
RETRY_AFTER_SECONDS = 5


class TenantHostMiddleware(TenantMainMiddleware):
    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            response = super().process_request(request)
        except DatabaseError:
            logger.warning("database unavailable while resolving host %s", request.get_host())
            return _unavailable()
        if response is not None:
            return response
        tenant = request.tenant
        if getattr(tenant, "status", Tenant.Status.ACTIVE) == Tenant.Status.SUSPENDED:
            body = render_to_string("tenants/suspended.html", {"tenant": tenant})
            return HttpResponse(body, status=403)
        return None


def _unavailable() -> HttpResponse:
    """The API's error shape (``nexiom.errors.Unavailable``'s code), for every host."""
    response = JsonResponse(
        {
            "error": {
                "code": "unavailable",
                "message": "The service is briefly unavailable; try again later.",
                "fields": {},
            }
        },
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
