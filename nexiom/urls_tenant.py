"""URLs of a tenant host (acme.<base domain>): the Desk, the API, OIDC, health."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.urls import api_urlpatterns as accounts_api
from connectors.urls import api_urlpatterns as connectors_api
from nexiom import health
from pipeline.urls import api_urlpatterns as pipeline_api
from sync_history.urls import api_urlpatterns as history_api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        # GET only: an OPTIONS answer has no template, and its HTML renderer
        # turned it into a 500.
        SpectacularSwaggerView.as_view(url_name="schema", http_method_names=["get", "head"]),
        name="swagger-ui",
    ),
    path("api/", include(accounts_api)),
    path("api/", include(connectors_api)),
    path("api/", include(pipeline_api)),
    path("api/", include(history_api)),
    path("", include("pipeline.urls")),
    path("", include("accounts.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

# An unrouted /api/ path answers the API's JSON error body (found by the API fuzzing).
handler404 = "nexiom.api_errors.page_not_found"
