"""Users in the Desk (tenant hosts) and in the platform admin (operators)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User
from nexiom.admin_sites import platform_site


class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "is_active", "is_superuser", "last_login")
    readonly_fields = ("oidc_sub", "last_login", "date_joined")


admin.site.register(User, UserAdmin)
platform_site.register(User, UserAdmin)
