"""The Desk's pages for users, invitations and API tokens (tenant hosts),
and operators' accounts on the platform admin (public host).

What each role may do comes from the Django permissions of its group (see
accounts.roles); the admin honours them, and every change goes through
accounts.services.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts import (
    admin_platform,  # noqa: F401 - registers the platform's tenant pages
    selectors,
    services,
)
from accounts.models import ApiToken, Invitation, User
from accounts.roles import Role
from nexiom.admin_sites import platform_site
from nexiom.desk import DeskServiceAdminMixin, apply_to_each

ROLE_FORM_CHOICES = [(role.value, role.value) for role in Role]


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
class DeskUserAdmin(DeskServiceAdminMixin, admin.ModelAdmin):
    """Users arrive through invitations or the identity provider; Admins set roles.

    Break-glass superusers are shown read-only: the services refuse to change
    them, so the form never offers it.
    """

    form = DeskUserForm
    list_display = ("username", "email", "role_name", "is_active", "last_login")
    list_filter = ("is_active", "groups")
    search_fields = ("username", "email")
    readonly_fields = (
        "username",
        "email",
        "first_name",
        "last_name",
        "role_source",
        "is_active",
        "last_login",
        "date_joined",
    )
    actions = ["deactivate", "reactivate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.is_superuser:
            return False
        return super().has_change_permission(request, obj)

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
        # A refusal propagates: DeskServiceAdminMixin shows it instead of "changed".
        services.user_role_set(user=obj, role=form.cleaned_data["role"])

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            actions.pop("deactivate", None)
            actions.pop("reactivate", None)
        return actions

    @admin.action(description="Deactivate selected users", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        apply_to_each(
            request,
            queryset,
            lambda user: services.user_deactivate(user=user),
            label=lambda user: user.username,
            done="{count} user(s) deactivated.",
        )

    @admin.action(description="Reactivate selected users", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        apply_to_each(
            request,
            queryset,
            lambda user: services.user_reactivate(user=user),
            label=lambda user: user.username,
            done="{count} user(s) reactivated.",
        )


class InvitationForm(forms.ModelForm):
    role = forms.ChoiceField(choices=ROLE_FORM_CHOICES, initial=Role.VIEWER.value)

    class Meta:
        model = Invitation
        fields = ("email", "role")


@admin.register(Invitation)
class InvitationAdmin(DeskServiceAdminMixin, admin.ModelAdmin):
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
        created = services.invitation_create(
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
        )
        obj.pk = created.pk
        obj.refresh_from_db()

    @admin.action(description="Re-send selected invitations (new link)", permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        apply_to_each(
            request,
            queryset,
            lambda inv: services.invitation_resend(invitation=inv),
            label=lambda inv: inv.email,
            done="{count} invitation(s) re-sent with a new link.",
        )

    @admin.action(description="Revoke selected invitations", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        apply_to_each(
            request,
            queryset,
            lambda inv: services.invitation_revoke(invitation=inv),
            label=lambda inv: inv.email,
            done="{count} invitation(s) revoked.",
        )


class ApiTokenForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(min_value=1, initial=90)

    class Meta:
        model = ApiToken
        fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(DeskServiceAdminMixin, admin.ModelAdmin):
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
        return selectors.api_tokens_for_user(user=request.user)

    def get_fields(self, request, obj=None):
        return ("name", "expires_in_days") if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead

    def save_model(self, request, obj: ApiToken, form, change) -> None:
        created = services.api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            expires_in_days=form.cleaned_data["expires_in_days"],
        )
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
        apply_to_each(
            request,
            queryset,
            lambda token: services.api_token_revoke(token=token),
            label=lambda token: token.name,
            done="{count} token(s) revoked.",
        )


class OperatorAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "is_active", "is_superuser", "last_login")
    readonly_fields = ("last_login", "date_joined")


platform_site.register(User, OperatorAdmin)
