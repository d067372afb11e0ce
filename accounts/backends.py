from django.contrib.auth.backends import ModelBackend


class BreakGlassBackend(ModelBackend):
    """Local password login, for break-glass superusers only; everyone else uses OIDC."""

    def user_can_authenticate(self, user) -> bool:
        return bool(super().user_can_authenticate(user) and user.is_superuser)
