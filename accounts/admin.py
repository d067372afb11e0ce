"""The Desk's pages for users, invitations and API tokens (tenant hosts),
and operators' accounts on the platform admin (public host).

What each role may do comes from the Django permissions of its group (see
accounts.roles); the admin honours them, and every change goes through
accounts.services.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts import services
from accounts.models import ApiToken, Invitation, User
from accounts.roles import Role
from nexiom.admin_sites import platform_site

ROLE_FORM_CHOICES = [(role.value, role.value) for role in Role]


def _apply_to_each(model_admin, request, queryset, service, refusal, label) -> None:
    """Run one service per selected row; a refused row is reported, the others go on."""
    for obj in queryset:
        try:
            service(obj)
        except refusal as exc:
            model_admin.message_user(request, f"{label(obj)}: {exc}", messages.ERROR)


class DeskUserForm(forms.ModelForm):
    role = forms.ChoiceField(choices=ROLE_FORM_CHOICES)

    class Meta:
        model = User
        fields = ("role",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.role:
            self.fields["role"].initial = self.instance.role.value


@admin.register(User)
class DeskUserAdmin(admin.ModelAdmin):
    """Users arrive through invitations or the identity provider; Admins set roles."""

    form = DeskUserForm
    list_display = ("username", "email", "role_name", "is_active", "last_login")
    list_filter = ("is_active", "groups")
    search_fields = ("username", "email")
    readonly_fields = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_active",
        "last_login",
        "date_joined",
    )
    actions = ["deactivate", "reactivate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    def get_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if self.has_change_permission(request, obj):
            fields.insert(2, "role")
        else:
            fields.insert(2, "role_name")
        return fields

    def get_readonly_fields(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return self.readonly_fields
        return (*self.readonly_fields, "role_name")

    @admin.display(description="role")
    def role_name(self, user: User) -> str:
        return user.role.value if user.role else ("superuser" if user.is_superuser else "—")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # invite instead

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # deactivate instead; history keeps its author

    def save_model(self, request, obj: User, form, change) -> None:
        try:
            services.user_role_set(user=obj, role=form.cleaned_data["role"])
        except services.LastAdminError as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            actions.pop("deactivate", None)
            actions.pop("reactivate", None)
        return actions

    @admin.action(description="Deactivate selected users", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _apply_to_each(
            self,
            request,
            queryset,
            lambda user: services.user_deactivate(user=user),
            services.LastAdminError,
            lambda user: user.username,
        )

    @admin.action(description="Reactivate selected users", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            services.user_reactivate(user=user)


class InvitationForm(forms.ModelForm):
    role = forms.ChoiceField(choices=ROLE_FORM_CHOICES, initial=Role.VIEWER.value)

    class Meta:
        model = Invitation
        fields = ("email", "role")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    form = InvitationForm
    list_display = ("email", "role", "status", "invited_by", "expires_at", "send_count")
    list_filter = ("role",)
    search_fields = ("email",)
    actions = ["resend", "revoke"]
    readonly_fields = (
        "email",
        "role",
        "status",
        "invited_by",
        "created",
        "expires_at",
        "last_sent_at",
        "send_count",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    )

    def get_fields(self, request, obj=None):
        return ("email", "role") if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead; the row is the audit trail

    def save_model(self, request, obj: Invitation, form, change) -> None:
        if change:
            return
        try:
            created = services.invitation_create(
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
        except services.InvitationError as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk = created.pk
        obj.refresh_from_db()

    @admin.action(description="Re-send selected invitations (new link)", permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        _apply_to_each(
            self,
            request,
            queryset,
            lambda inv: services.invitation_resend(invitation=inv),
            services.InvitationError,
            lambda inv: inv.email,
        )

    @admin.action(description="Revoke selected invitations", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        _apply_to_each(
            self,
            request,
            queryset,
            lambda inv: services.invitation_revoke(invitation=inv),
            services.InvitationError,
            lambda inv: inv.email,
        )


class ApiTokenForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(min_value=1, initial=90)

    class Meta:
        model = ApiToken
        fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Your own tokens; Admins see everyone's. The secret is shown once, on creation."""

    form = ApiTokenForm
    list_display = ("name", "prefix", "user", "status", "expires_at", "last_used_at")
    actions = ["revoke"]
    readonly_fields = (
        "name",
        "prefix",
        "user",
        "status",
        "created",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        queryset = super().get_queryset(request).select_related("user")
        if request.user.has_perm("accounts.view_all_apitokens"):
            return queryset
        return queryset.filter(user=request.user)

    def get_fields(self, request, obj=None):
        return ("name", "expires_in_days") if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead

    def save_model(self, request, obj: ApiToken, form, change) -> None:
        try:
            created = services.api_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except services.TokenError as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk = created.token.pk
        request._nexiom_new_token = created.plaintext  # rendered once by response_add

    def response_add(self, request, obj, post_url_continue=None) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "token": obj,
            "plaintext": request._nexiom_new_token,
            "opts": self.opts,
            "title": "Your new API token",
        }
        return TemplateResponse(request, "accounts/token_created.html", context)

    @admin.action(description="Revoke selected tokens", permissions=["view"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            services.api_token_revoke(token=token)


class OperatorAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "is_active", "is_superuser", "last_login")
    readonly_fields = ("last_login", "date_joined")


platform_site.register(User, OperatorAdmin)
