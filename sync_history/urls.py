from django.urls import include, path
from rest_framework.routers import DefaultRouter

from sync_history import api

# No ".json" suffix routes: the API answers JSON already, and an action written
# (request, pk=None) answered 500 to the ``format`` keyword a suffix adds.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("sync-history", api.SyncHistoryViewSet, basename="sync-history")

api_urlpatterns = [path("", include(router.urls))]
