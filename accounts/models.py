"""Users of one tenant (in its schema) or platform operators (in public),
their invitations and personal API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from accounts.roles import Role


class RoleSource(models.TextChoices):
    """Who owns a user's role, so that sign-in knows whom to believe.

    A role from the provider's roles claim follows the claim at every
    sign-in; a role from an invitation or an Admin stays Nexiom's to change.
    Empty: no role, or one given before sources were recorded.
    """

    IDP_CLAIM = "idp_claim", "Identity provider's roles claim"
    INVITATION = "invitation", "Invitation"
    ADMIN = "admin", "Admin in Nexiom"


class User(AbstractUser):
    # The OpenID Connect subject: the only identity a login is matched on.
    # Empty for break-glass accounts that sign in with a local password.
    oidc_sub = models.CharField(
        "OIDC subject", max_length=255, unique=True, null=True, blank=True, editable=False
    )
    role_source = models.CharField(
        "role comes from", max_length=16, choices=RoleSource.choices, blank=True, default=""
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        ordering = ["username"]

    @property
    def role(self) -> Role | None:
        """The user's one role in this tenant, or None (break-glass, or not a member)."""
        names = {group.name for group in self.groups.all()}
        held = [role for role in Role if role.value in names]
        return max(held, key=lambda role: role.rank) if held else None


class InvitationStatus(models.TextChoices):
    """Derived from the timestamps, never stored: it can't drift from them."""

    PENDING = "pending", "Pending"
    EXPIRED = "expired", "Expired"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"


class InvitationQuerySet(models.QuerySet):
    def with_status(self, status: str) -> InvitationQuerySet:
        now = timezone.now()
        live = {"accepted_at__isnull": True, "revoked_at__isnull": True}
        conditions = {
            InvitationStatus.PENDING: models.Q(**live, expires_at__gt=now),
            InvitationStatus.EXPIRED: models.Q(**live, expires_at__lte=now),
            InvitationStatus.ACCEPTED: models.Q(accepted_at__isnull=False),
            InvitationStatus.REVOKED: models.Q(accepted_at__isnull=True, revoked_at__isnull=False),
        }
        if status not in conditions:
            return self.none()
        return self.filter(conditions[InvitationStatus(status)])


class Invitation(models.Model):
    """An Admin's invitation of an email address to this tenant with a role.

    Only a SHA-256 of the link's token is stored; the link itself exists in
    the email and nowhere else.
    """

    Status = InvitationStatus

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=[(r.value, r.value) for r in Role])
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_sent",
    )
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    send_count = models.PositiveIntegerField(default=0)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.email} as {self.role} ({self.status})"

    @property
    def status(self) -> InvitationStatus:
        if self.accepted_at:
            return InvitationStatus.ACCEPTED
        if self.revoked_at:
            return InvitationStatus.REVOKED
        if self.expires_at <= timezone.now():
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING

    @property
    def is_pending(self) -> bool:
        return self.status == InvitationStatus.PENDING


class ApiTokenStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class ApiToken(models.Model):
    """A personal API token for scripts: `Authorization: Bearer <token>`.

    Shown once at creation; only its SHA-256 is stored. It acts as its user,
    in this tenant only, until it expires or is revoked.
    """

    Status = ApiTokenStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, editable=False, help_text="identifies the token")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        permissions = [("view_all_apitokens", "Can see and revoke every user's API tokens")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def status(self) -> ApiTokenStatus:
        if self.revoked_at:
            return ApiTokenStatus.REVOKED
        if self.expires_at <= timezone.now():
            return ApiTokenStatus.EXPIRED
        return ApiTokenStatus.ACTIVE
