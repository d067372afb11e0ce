from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(sender, **kwargs) -> None:
    # Once per migrate run, after the last app's permissions exist: new apps'
    # permissions reach the roles without a manual step.
    if sender is not list(apps.get_app_configs())[-1]:
        return
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import roles_sync

    roles_sync(Group, Permission)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        from accounts import schema  # noqa: F401  registers the bearer scheme with drf-spectacular

        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="accounts.roles_sync")
