from django.urls import include, path
from rest_framework.routers import DefaultRouter

from pipeline import api, dashboard, views

router = DefaultRouter()
router.register("routes", api.RouteViewSet, basename="route")

api_urlpatterns = [
    path("connections/<str:pk>/hook/", api.HookIssueView.as_view(), name="connection-hook"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("hooks/<str:token>", views.hook_receive, name="hook"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
