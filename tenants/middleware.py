"""Host-based tenant routing.

django-tenants picks the schema from the host; this adds the platform's
rules: an unknown host is a 404 (never the public site) and a suspended
tenant's host answers 403 before any view runs.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.models import Tenant


class TenantHostMiddleware(TenantMainMiddleware):
    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        response = super().process_request(request)
        if response is not None:
            return response
        tenant = request.tenant
        if getattr(tenant, "status", Tenant.Status.ACTIVE) == Tenant.Status.SUSPENDED:
            body = render_to_string("tenants/suspended.html", {"tenant": tenant})
            return HttpResponse(body, status=403)
        return None
