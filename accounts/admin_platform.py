"""Operators manage tenants on the public host's platform admin.

Here, not in tenants: creating a tenant from this page onboards it (its first
Admin is invited), an accounts service; tenants never imports the layers
above it. ``accounts/admin.py`` imports this module so the admin finds it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts.services import tenant_onboard
from nexiom.admin_sites import platform_site
from nexiom.desk import DeskServiceAdminMixin, apply_to_each
from tenants import services
from tenants.errors import TenantSlugError
from tenants.models import Domain, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ("domain", "is_primary")


class TenantCreationForm(forms.ModelForm):
    admin_email = forms.EmailField(
        required=False, help_text="Invite this address as the tenant's first Admin."
    )

    class Meta:
        model = Tenant
        fields = ("slug", "name")

    def clean_slug(self) -> str:
        try:
            return services.tenant_slug_validate(slug=self.cleaned_data["slug"])
        except TenantSlugError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


@admin.register(Tenant, site=platform_site)
class TenantAdmin(DeskServiceAdminMixin, admin.ModelAdmin):
    list_display = ("slug", "name", "status", "created", "desk_link")
    list_filter = ("status",)
    search_fields = ("slug", "name")
    readonly_fields = ("slug", "schema_name", "status", "created")
    fields = ("slug", "name", "schema_name", "status", "history_retention_days", "created")
    inlines = [DomainInline]
    actions = ["suspend", "activate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return super().get_queryset(request).exclude(schema_name="public")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = TenantCreationForm
            kwargs["fields"] = ("slug", "name", "admin_email")
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def get_fields(self, request, obj=None):
        return self.fields if obj else ("slug", "name", "admin_email")

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        result = tenant_onboard(
            slug=form.cleaned_data["slug"],
            name=form.cleaned_data["name"],
            admin_email=form.cleaned_data.get("admin_email") or None,
        )
        obj.pk = result.tenant.pk
        obj.refresh_from_db()
        self.message_user(request, f"Tenant provisioned at {result.url}")

    @admin.display(description="Desk")
    def desk_link(self, tenant: Tenant) -> str:
        url = services.tenant_url(tenant=tenant) + "admin/"
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.action(description="Suspend selected tenants")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        apply_to_each(
            request,
            queryset,
            lambda tenant: services.tenant_status_set(
                tenant=tenant, status=Tenant.Status.SUSPENDED
            ),
            label=lambda tenant: tenant.slug,
            done="{count} tenant(s) suspended.",
        )

    @admin.action(description="Reactivate selected tenants")
    def activate(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        apply_to_each(
            request,
            queryset,
            lambda tenant: services.tenant_status_set(tenant=tenant, status=Tenant.Status.ACTIVE),
            label=lambda tenant: tenant.slug,
            done="{count} tenant(s) reactivated.",
        )
