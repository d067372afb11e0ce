from django.contrib.admin.apps import AdminConfig


class NexiomAdminConfig(AdminConfig):
    """The default admin site is the tenant Desk; platform models move to their own site."""

    default_site = "nexiom.admin_sites.DeskAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscovers every app's admin.py
        from nexiom.admin_sites import move_platform_models

        move_platform_models()
