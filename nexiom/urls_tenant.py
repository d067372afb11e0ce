"""URLs of a tenant host (acme.<base domain>): the Desk, the API, health."""

from django.contrib import admin
from django.urls import path

from nexiom import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
