"""The Desk's pipeline pages: routes (with their mapping), and issuing a source's ingest URL.

Messages, records and deliveries are shown by the sync history's pages; here
a tenant sets up where records go.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from connectors.models import Connection
from nexiom.desk import DeskServiceAdminMixin, apply_to_each
from pipeline.models import Route
from pipeline.services.hooks import hook_issue
from pipeline.services.routes import route_create, route_delete, route_update

MAPPING_EXAMPLE = {
    "items": {"line_haul": "21", "fuel_surcharge": "22", "accessorial": "23", "discount": "24"},
    "tax_code": "TAX",
    "default_terms_id": "3",
}


class RouteForm(forms.ModelForm):
    mapping = forms.JSONField(
        required=False,
        initial=MAPPING_EXAMPLE,
        help_text="Which QuickBooks Item each line kind books to, the tax code of taxed lines, "
        'default terms. Keys like "accessorial:Detention" book one charge elsewhere.',
        widget=forms.Textarea(attrs={"rows": 8, "cols": 70}),
    )

    class Meta:
        model = Route
        fields = ("name", "object_type", "source", "target", "enabled", "mapping")


@admin.register(Route)
class RouteAdmin(DeskServiceAdminMixin, admin.ModelAdmin):
    form = RouteForm
    list_display = ("name", "object_type", "source", "target", "enabled", "created")
    list_filter = ("enabled", "object_type")
    actions = ["enable_selected", "disable_selected"]

    def get_readonly_fields(self, request, obj=None):
        return ("object_type", "source", "target") if obj else ()

    def save_model(self, request: HttpRequest, obj: Route, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            route_update(
                route=obj, name=data["name"], mapping=data["mapping"] or {}, enabled=data["enabled"]
            )
            return
        created = route_create(
            name=data["name"],
            source=data["source"],
            target=data["target"],
            object_type=data["object_type"],
            mapping=data["mapping"] or {},
            enabled=data["enabled"],
            created_by=request.user,
        )
        obj.pk = created.pk

    def delete_model(self, request: HttpRequest, obj: Route) -> None:
        route_delete(route=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for route in queryset:
            route_delete(route=route)

    @admin.action(description="Enable selected routes", permissions=["change"])
    def enable_selected(self, request, queryset) -> None:
        apply_to_each(
            request,
            queryset,
            lambda r: route_update(route=r, enabled=True),
            label=lambda r: r.name,
            done="{count} route(s) enabled.",
        )

    @admin.action(description="Disable selected routes", permissions=["change"])
    def disable_selected(self, request, queryset) -> None:
        apply_to_each(
            request,
            queryset,
            lambda r: route_update(route=r, enabled=False),
            label=lambda r: r.name,
            done="{count} route(s) disabled.",
        )

    def get_urls(self):
        issue = self.admin_site.admin_view(require_POST(self.hook_view))
        return [
            path("hook/<int:connection_id>/", issue, name="pipeline_route_hook"),
            *super().get_urls(),
        ]

    def hook_view(self, request: HttpRequest, connection_id: int):
        """Issue a source connection's ingest URL and show it once."""
        if not request.user.has_perm("pipeline.change_route"):
            raise PermissionDenied
        connection = Connection.objects.filter(pk=connection_id).first()
        if connection is None:
            messages.error(request, "No such connection.")
            return HttpResponseRedirect(reverse("admin:pipeline_route_changelist"))
        issued = hook_issue(connection=connection)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Ingest URL of {connection.name}",
            "connection": connection,
            "url": issued.url,
        }
        return TemplateResponse(request, "admin/pipeline/hook_issued.html", context)

    def changelist_view(self, request, extra_context=None):
        sources = [
            connection
            for connection in Connection.objects.order_by("name")
            if _receives(connection)
        ]
        extra_context = {
            **(extra_context or {}),
            "hook_sources": sources if request.user.has_perm("pipeline.change_route") else [],
        }
        return super().changelist_view(request, extra_context)


def _receives(connection: Connection) -> bool:
    from connectors.registry import connector_get

    try:
        return connector_get(key=connection.connector).inbound is not None
    except Exception:  # an uninstalled connector's rows stay listed elsewhere
        return False
