"""A tenant's connections to its external systems, and their pending authorizations.

Credentials live in the vault (``credentials`` is a ``vault.Secret``); these
rows keep only what is safe to show: status, expiry, provider metadata
(QuickBooks realm id, Salesforce instance URL and org id), the last check
and the last error.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ConnectionStatus(models.TextChoices):
    PENDING = "pending", "Pending (not authorized yet)"
    CONNECTED = "connected", "Connected"
    NEEDS_REAUTH = "needs_reauth", "Needs reconnecting"
    ERROR = "error", "Error"
    DISABLED = "disabled", "Disabled"


class Connection(models.Model):
    Status = ConnectionStatus

    connector = models.CharField(max_length=50, help_text="The connector's key, e.g. quickbooks.")
    name = models.CharField(max_length=100)
    environment = models.CharField(max_length=20, default="local")
    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.PENDING
    )
    #: Provider facts captured at connect time (realmId, instance_url, org_id); never secret.
    metadata = models.JSONField(default=dict, blank=True)
    credentials = models.OneToOneField(
        "vault.Secret", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: Fingerprint of the access credential in use, so a refresh knows whether another
    #: worker already replaced the one that failed (single-flight without a Redis lock).
    access_fingerprint = models.CharField(max_length=16, blank=True, editable=False)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    #: When the health sweeper should look at it next (refresh or test).
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failure_count = models.PositiveIntegerField(default=0)
    reauth_notified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="connection_name_unique"),
        ]
        indexes = [models.Index(fields=["status", "next_check_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.connector})"

    @property
    def realm_id(self) -> str:
        return self.metadata.get("realmId", "")

    @property
    def org_id(self) -> str:
        return self.metadata.get("org_id", "")


class Authorization(models.Model):
    """One started OAuth authorization: the single-use half of ``state`` and the PKCE verifier.

    The signed ``state`` carries this row's nonce; the callback claims the
    row with a conditional UPDATE, so a state works once. Rows expire after
    ten minutes and are pruned.
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64, unique=True)
    #: Short-lived and useless without the provider's code, which only the callback receives.
    code_verifier = models.CharField(max_length=128, blank=True)
    redirect_uri = models.CharField(max_length=300)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"authorization of connection {self.connection_id} at {self.created:%Y-%m-%d %H:%M}"
