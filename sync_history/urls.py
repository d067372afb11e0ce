from django.urls import include, path
from rest_framework.routers import DefaultRouter

from sync_history import api

router = DefaultRouter()
router.register("sync-history", api.SyncHistoryViewSet, basename="sync-history")

api_urlpatterns = [path("", include(router.urls))]
