"""Tell a tenant's Admins, once, that a connection needs reconnecting."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from accounts.roles import Role
from connectors.models import Connection
from tenants.services import tenant_current, tenant_url

logger = logging.getLogger(__name__)


def reauth_notify_admins(*, connection_id: int) -> int:
    """Email every active Admin with an address; returns how many were told."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return 0
    recipients = list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.ADMIN.value)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return 0
    tenant = tenant_current()
    link = f"{tenant_url(tenant=tenant)}admin/connectors/connection/{connection.pk}/change/"
    send_mail(
        subject=f"{connection.name} needs reconnecting",
        message=(
            f"The connection {connection.name} ({connection.connector}) of {tenant.name} was "
            f"refused by the provider and no longer syncs:\n\n{connection.last_error}\n\n"
            f"Reconnect it here: {link}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    logger.info(
        "connection %s: %d Admin(s) told it needs reconnecting", connection.pk, len(recipients)
    )
    return len(recipients)
