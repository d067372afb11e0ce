from django.urls import include, path
from rest_framework.routers import DefaultRouter

from pipeline import api, dashboard, views

# No ".json" suffix routes: the API answers JSON already, and an action written
# (request, pk=None) answered 500 to the ``format`` keyword a suffix adds.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("routes", api.RouteViewSet, basename="route")

api_urlpatterns = [
    path("connections/<str:pk>/hook/", api.HookIssueView.as_view(), name="connection-hook"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("hooks/<str:token>", views.hook_receive, name="hook"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
