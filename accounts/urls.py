from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts import api, oidc, views

# No ".json" suffix routes: the API answers JSON already, and an action written
# (request, pk=None) answered 500 to the ``format`` keyword a suffix adds.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("users", api.UserViewSet, basename="user")
router.register("invitations", api.InvitationViewSet, basename="invitation")
router.register("tokens", api.ApiTokenViewSet, basename="apitoken")

api_urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("login/refused/", oidc.login_refused, name="login_refused"),
    path("invitations/<str:token>/", views.InvitationView.as_view(), name="invitation"),
]
