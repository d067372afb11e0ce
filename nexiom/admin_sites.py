"""Two admin sites: the platform admin on the public host, the Desk on tenant hosts.

Tenant hosts see the public schema too (it is on their search path), so the
models that belong to the platform (tenants, domains, beat schedules) are
registered only on the platform site; the Desk never lists them.
"""

from __future__ import annotations

from django.contrib import admin
from django_celery_beat import models as beat_models


class PlatformAdminSite(admin.AdminSite):
    site_header = "Nexiom platform"
    site_title = "Nexiom platform"
    index_title = "Tenants and platform jobs"


class DeskAdminSite(admin.AdminSite):
    site_header = "Nexiom Desk"
    site_title = "Nexiom Desk"
    index_title = "Your company's integrations"
    login_template = "accounts/desk_login.html"
    # Links the tenant dashboard (pipeline/templates/admin/desk_index.html).
    index_template = "admin/desk_index.html"

    def logout(self, request, extra_context=None):
        """Signed in through OIDC: end the provider's session too."""
        if request.method == "POST" and request.session.get("oidc_id_token"):
            from mozilla_django_oidc.views import OIDCLogoutView

            return OIDCLogoutView.as_view()(request)
        return super().logout(request, extra_context)


platform_site = PlatformAdminSite(name="platform_admin")

_BEAT_MODELS = (
    beat_models.PeriodicTask,
    beat_models.IntervalSchedule,
    beat_models.CrontabSchedule,
    beat_models.SolarSchedule,
    beat_models.ClockedSchedule,
)


def move_platform_models() -> None:
    """django-celery-beat and django-axes register on the default site; move them.

    Axes' tables (break-glass sign-in attempts of every tenant) are in the
    public schema: only platform operators may see them, never a tenant's Desk.
    """
    from axes import models as axes_models

    axes = (axes_models.AccessAttempt, axes_models.AccessFailureLog, axes_models.AccessLog)
    for model in (*_BEAT_MODELS, *axes):
        if admin.site.is_registered(model):
            model_admin = admin.site._registry[model]
            admin.site.unregister(model)
            platform_site.register(model, type(model_admin))
