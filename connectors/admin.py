"""The Desk's connections page: health at a glance, Connect, test, refresh, disable, delete.

Every change goes through ``connectors.services``; refusals come back as
error messages (``nexiom.desk``). Secrets never reach a page: API-key fields
are password inputs that are never rendered back, tokens are not shown at all.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from connectors import services
from connectors.errors import ConnectorUnknown
from connectors.models import Connection, ConnectionStatus
from connectors.registry import connector_get, connectors_installed
from connectors.sdk.credentials import ApiKey, OAuth2
from nexiom.desk import DeskServiceAdminMixin, apply_to_each, desk_refusal
from nexiom.errors import DomainError

_BADGE_COLOURS = {
    ConnectionStatus.CONNECTED: "#2e7d32",
    ConnectionStatus.PENDING: "#6d6d6d",
    ConnectionStatus.NEEDS_REAUTH: "#c62828",
    ConnectionStatus.ERROR: "#ef6c00",
    ConnectionStatus.DISABLED: "#424242",
}
_OAUTH_OUTCOMES = {
    "connected": (messages.SUCCESS, "Connected."),
    "refused": (messages.ERROR, "The provider did not authorize the connection."),
    "failed": (messages.ERROR, "The connection could not be completed."),
}


def connection_add_form(connector_key: str) -> type[forms.ModelForm]:
    """The add form for one connector: name, environment and, for API keys, its fields."""
    connector = connector_get(key=connector_key)
    extra: dict[str, forms.Field] = {
        "environment": forms.ChoiceField(
            choices=[(env.key, env.label) for env in connector.environments], initial="local"
        )
    }
    if isinstance(connector.credential, ApiKey):
        for spec in connector.credential.fields:
            widget = (
                forms.PasswordInput(render_value=False)
                if spec.secret
                else forms.TextInput(attrs={"placeholder": spec.example})
            )
            extra[f"key_{spec.name}"] = forms.CharField(
                label=spec.label,
                required=spec.required,
                help_text=spec.help,
                widget=widget,
                strip=not spec.secret,
                max_length=1000,
            )

    class Meta:
        model = Connection
        fields = ("name",)

    return type("ConnectionAddForm", (forms.ModelForm,), {"Meta": Meta, **extra})


@admin.register(Connection)
class ConnectionAdmin(DeskServiceAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "connector_name",
        "environment",
        "status_badge",
        "account",
        "access_expires_at",
        "last_checked_at",
        "last_error_short",
    )
    list_filter = ("status", "connector", "environment")
    search_fields = ("name",)
    actions = ["test_selected", "refresh_selected", "disable_selected"]
    readonly_fields = (
        "connector_name",
        "environment",
        "status_badge",
        "account",
        "access_expires_at",
        "refreshed_at",
        "last_checked_at",
        "next_check_at",
        "last_error",
        "created_by",
        "created",
    )
    change_form_template = "admin/connectors/connection/change_form.html"

    # --- pages -------------------------------------------------------------------

    def get_urls(self):
        connect = self.admin_site.admin_view(require_POST(self.connect_view))
        return [
            path("<int:object_id>/connect/", connect, name="connectors_connection_connect"),
            *super().get_urls(),
        ]

    def get_fields(self, request, obj=None):
        if obj is None:  # the add form declares its own: name, environment, key fields
            return list(connection_add_form(request.GET.get("connector", "")).base_fields)
        return ("name", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = connection_add_form(request.GET.get("connector", ""))
        return super().get_form(request, obj, change=change, **kwargs)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        key = request.GET.get("connector", "")
        if key not in connectors_installed():
            if not self.has_add_permission(request):
                raise PermissionDenied
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Connect a system",
                "connectors": [c.describe() for c in connectors_installed().values()],
            }
            return TemplateResponse(request, "admin/connectors/connection/choose.html", context)
        return super().add_view(request, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Connection, form, change: bool) -> None:
        if change:
            Connection.objects.filter(pk=obj.pk).update(name=form.cleaned_data["name"])
            return
        key = request.GET.get("connector", "")
        api_key = {
            name.removeprefix("key_"): value
            for name, value in form.cleaned_data.items()
            if name.startswith("key_")
        }
        created = services.connection_create(
            connector=key,
            name=form.cleaned_data["name"],
            environment=form.cleaned_data["environment"],
            api_key=api_key or None,
            created_by=request.user,
        )
        obj.pk = created.pk
        obj.refresh_from_db()

    def response_add(self, request, obj, post_url_continue=None) -> HttpResponse:
        # Straight to the connection's page, where "Connect" is.
        url = reverse("admin:connectors_connection_change", args=[obj.pk])
        self.message_user(request, f"Connection {obj.name} created.", messages.SUCCESS)
        return HttpResponseRedirect(url)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        outcome = _OAUTH_OUTCOMES.get(request.GET.get("oauth", ""))
        if outcome and request.method == "GET":
            level, text = outcome
            connection = Connection.objects.filter(pk=object_id).first()
            if connection is not None and level == messages.ERROR and connection.last_error:
                text = f"{text} {connection.last_error}"
            self.message_user(request, text, level)
        connection = Connection.objects.filter(pk=object_id).first()
        extra_context = {
            **(extra_context or {}),
            "can_connect": connection is not None
            and self.has_change_permission(request, connection)
            and _is_oauth(connection)
            and connection.status != ConnectionStatus.DISABLED,
            "needs_reauth": connection is not None
            and connection.status == ConnectionStatus.NEEDS_REAUTH,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        for connection in Connection.objects.filter(status=ConnectionStatus.NEEDS_REAUTH):
            url = reverse("admin:connectors_connection_change", args=[connection.pk])
            self.message_user(
                request,
                format_html(
                    '{} needs reconnecting: <a href="{}">reconnect it</a>.', connection.name, url
                ),
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def connect_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        connection = Connection.objects.filter(pk=object_id).first()
        if connection is None:
            raise PermissionDenied
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        try:
            url = services.authorization_start(connection=connection, user=request.user)
        except DomainError as error:
            desk_refusal(request, error)
            return HttpResponseRedirect(
                reverse("admin:connectors_connection_change", args=[object_id])
            )
        return HttpResponseRedirect(url)

    # --- deletion revokes at the provider --------------------------------------------

    def delete_model(self, request: HttpRequest, obj: Connection) -> None:
        services.connection_delete(connection=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for connection in queryset:
            services.connection_delete(connection=connection, actor=request.user)

    # --- actions -----------------------------------------------------------------------

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            for name in ("test_selected", "refresh_selected", "disable_selected"):
                actions.pop(name, None)
        return actions

    @admin.action(description="Test selected connections", permissions=["change"])
    def test_selected(self, request, queryset) -> None:
        for connection in queryset:
            try:
                result = services.connection_test(connection=connection, actor=request.user)
            except DomainError as error:
                desk_refusal(request, error, subject=connection.name)
                continue
            if result.ok:
                self.message_user(request, f"{connection.name}: works.", messages.SUCCESS)
            else:
                self.message_user(request, f"{connection.name}: {result.error}", messages.ERROR)

    @admin.action(description="Refresh credentials now", permissions=["change"])
    def refresh_selected(self, request, queryset) -> None:
        apply_to_each(
            request,
            queryset,
            lambda c: services.connection_refresh_now(connection=c, actor=request.user),
            label=lambda c: c.name,
            done="{count} connection(s) refreshed.",
        )

    @admin.action(description="Disable selected connections", permissions=["change"])
    def disable_selected(self, request, queryset) -> None:
        apply_to_each(
            request,
            queryset,
            lambda c: services.connection_disable(connection=c),
            label=lambda c: c.name,
            done="{count} connection(s) disabled.",
        )

    # --- columns -------------------------------------------------------------------------

    @admin.display(description="system")
    def connector_name(self, connection: Connection) -> str:
        try:
            return connector_get(key=connection.connector).name
        except ConnectorUnknown:
            return f"{connection.connector} (not installed)"

    @admin.display(description="status", ordering="status")
    def status_badge(self, connection: Connection) -> str:
        colour = _BADGE_COLOURS.get(connection.status, "#424242")
        expiring = (
            connection.access_expires_at is not None
            and connection.access_expires_at < timezone.now()
            and connection.status == ConnectionStatus.CONNECTED
        )
        label = connection.get_status_display() + (" (token expired)" if expiring else "")
        return format_html(
            '<span class="nexiom-badge" data-status="{}" style="background:{};color:#fff;'
            'padding:2px 8px;border-radius:10px;white-space:nowrap">{}</span>',
            connection.status,
            colour,
            label,
        )

    @admin.display(description="account")
    def account(self, connection: Connection) -> str:
        meta = connection.metadata or {}
        if meta.get("realmId"):
            return f"realm {meta['realmId']}"
        if meta.get("org_id"):
            instance = meta.get("instance_url", "")
            return f"org {meta['org_id']}" + (f" at {instance}" if instance else "")
        return "—"

    @admin.display(description="last error")
    def last_error_short(self, connection: Connection) -> str:
        text = connection.last_error or ""
        return text if len(text) <= 80 else text[:79] + "…"


def _is_oauth(connection: Connection) -> bool:
    try:
        return isinstance(connector_get(key=connection.connector).credential, OAuth2)
    except ConnectorUnknown:
        return False
