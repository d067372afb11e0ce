from django.urls import include, path
from rest_framework.routers import DefaultRouter

from connectors import api

# No ".json" suffix routes: the API answers JSON already, and an action written
# (request, pk=None) answered 500 to the ``format`` keyword a suffix adds.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("connections", api.ConnectionViewSet, basename="connection")

api_urlpatterns = [
    path("connectors/", api.ConnectorListView.as_view(), name="connectors"),
    path("", include(router.urls)),
]
