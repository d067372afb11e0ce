"""URLs of the public host (the platform): operators' admin, the OAuth callback, health."""

from django.urls import path

from connectors.views import oauth_callback
from nexiom import health, metrics_view
from nexiom.admin_sites import platform_site

urlpatterns = [
    path("admin/", platform_site.urls),
    # Every provider redirects here; the signed state names the tenant.
    path("api/callback/<slug:provider>", oauth_callback, name="oauth-callback"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Prometheus; public host only (tenant hosts answer 404), NEXIOM_METRICS_ALLOWED_IPS.
    path("metrics", metrics_view.metrics, name="metrics"),
]
