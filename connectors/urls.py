from django.urls import include, path
from rest_framework.routers import DefaultRouter

from connectors import api

router = DefaultRouter()
router.register("connections", api.ConnectionViewSet, basename="connection")

api_urlpatterns = [
    path("connectors/", api.ConnectorListView.as_view(), name="connectors"),
    path("", include(router.urls)),
]
