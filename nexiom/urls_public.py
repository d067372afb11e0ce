"""URLs of the public host (the platform): operators' admin, health."""

from django.urls import path

from nexiom import health
from nexiom.admin_sites import platform_site

urlpatterns = [
    path("admin/", platform_site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
