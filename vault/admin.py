"""The vault in the Desk: secrets as masks, data write-only; the audit read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from vault import crypto
from vault.errors import SecretPayloadInvalid
from vault.models import Secret, SecretRead
from vault.services import purpose_validate, secret_replace, secret_seal


class WriteOnlyTextarea(forms.Textarea):
    """Renders empty, always: neither the stored data nor what was typed before an error."""

    def format_value(self, value):
        return None


def _data_field(*, required: bool, help_text: str) -> forms.JSONField:
    return forms.JSONField(
        label="Data",
        required=required,
        help_text=help_text,
        widget=WriteOnlyTextarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"}),
    )


class _SecretDataForm(forms.ModelForm):
    def clean_data(self):
        data = self.cleaned_data.get("data")
        if data is None:
            return None
        try:
            crypto.payload_encode(data)
        except SecretPayloadInvalid as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


class SecretAddForm(_SecretDataForm):
    data = _data_field(
        required=True,
        help_text='A JSON object of fields, e.g. {"api_key": "...", "account": "..."}. '
        "It is encrypted on save and never shown again.",
    )

    class Meta:
        model = Secret
        fields = ["purpose"]

    def clean_purpose(self):
        try:
            return purpose_validate(self.cleaned_data["purpose"])
        except SecretPayloadInvalid as exc:
            raise forms.ValidationError(str(exc)) from None


class SecretChangeForm(_SecretDataForm):
    data = _data_field(
        required=False,
        help_text="Leave empty to keep the stored data. A JSON object here replaces all of it; "
        "it is encrypted on save and never shown again.",
    )

    class Meta:
        model = Secret
        fields = []


@admin.register(Secret)
class SecretAdmin(admin.ModelAdmin):
    list_display = ("purpose", "masked", "created", "replaced", "rotated", "id")
    list_filter = ("purpose", "key_version")
    search_fields = ("purpose",)
    readonly_fields = ("id", "masked", "created", "replaced", "rotated")

    @admin.display(description="secret")
    def masked(self, obj: Secret) -> str:
        return obj.mask

    @method_decorator(sensitive_post_parameters("data"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = SecretChangeForm if obj is not None else SecretAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["purpose", "data"]
        fields = ["id", "purpose", "masked", "created", "replaced", "rotated"]
        # A view-only user gets no form at all, so no data field either.
        if self.has_change_permission(request, obj):
            fields.append("data")
        return fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else (*self.readonly_fields, "purpose")

    def has_delete_permission(self, request, obj=None) -> bool:
        # A secret belongs to what uses it (a connection) and goes with it.
        return False

    def save_model(self, request, obj: Secret, form, change: bool) -> None:
        data = form.cleaned_data.get("data")
        if change:
            if data is not None:
                secret_replace(secret=obj, data=data)
            return
        created = secret_seal(data=data, purpose=form.cleaned_data["purpose"])
        for field in Secret._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False


@admin.register(SecretRead)
class SecretReadAdmin(admin.ModelAdmin):
    """The audit of reveals and of failed attempts; nobody adds, changes or deletes a row."""

    list_display = (
        "created",
        "purpose",
        "secret_ref",
        "actor_label",
        "actor_kind",
        "reason",
        "outcome",
        "failure",
    )
    list_filter = ("outcome", "actor_kind", "purpose")
    search_fields = ("reason", "actor_label", "purpose", "failure")
    date_hierarchy = "created"
    fields = (
        "created",
        "secret",
        "secret_ref",
        "purpose",
        "actor_kind",
        "actor_label",
        "actor_user",
        "reason",
        "outcome",
        "failure",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
