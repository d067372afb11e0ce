"""Invitations: an Admin invites an email with a role; the link is single-use,
expiring, stored hashed, and valid only on its tenant's host."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.errors import (
    AlreadyMember,
    InvitationClosed,
    InvitationEmailInvalid,
    InvitationError,
    InvitationUnknown,
    InvitationUnusable,
)
from accounts.models import Invitation, User
from accounts.roles import Role
from tenants.services import tenant_current, tenant_url

__all__ = [
    "InvitationError",
    "invitation_accept",
    "invitation_create",
    "invitation_create_first_admin",
    "invitation_get_pending",
    "invitation_resend",
    "invitation_revoke",
]

logger = logging.getLogger(__name__)

_UNUSABLE_REASONS = {
    Invitation.Status.ACCEPTED: "This invitation has already been used.",
    Invitation.Status.REVOKED: "This invitation was withdrawn by an administrator.",
    Invitation.Status.EXPIRED: "This invitation has expired; ask an administrator for a new one.",
}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def _ttl() -> timedelta:
    return timedelta(hours=settings.NEXIOM_INVITATION_TTL_HOURS)


def invitation_link(*, token: str) -> str:
    """The acceptance URL on the current tenant's host."""
    return f"{tenant_url(tenant=tenant_current())}invitations/{token}/"


def _send(*, invitation: Invitation, token: str) -> None:
    """Record the send now; email the link only once the transaction commits.

    A rolled-back invitation (or re-send) must not leave a working-looking
    link in someone's inbox, so the mail goes out from ``on_commit``.
    """
    context = {
        "tenant_name": tenant_current().name,
        "role": invitation.role,
        "link": invitation_link(token=token),
        "expires_at": invitation.expires_at,
        "invited_by": invitation.invited_by,
    }
    subject = f"You are invited to {context['tenant_name']} on Nexiom"
    body = render_to_string("accounts/invitation_email.txt", context)
    invitation.last_sent_at = timezone.now()
    invitation.send_count += 1
    invitation.save(update_fields=["last_sent_at", "send_count"])
    pk, recipient = invitation.pk, invitation.email

    def deliver() -> None:
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[recipient])
        logger.info("invitation %s sent to %s", pk, recipient)

    transaction.on_commit(deliver)


def _normalise_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        message = f"{email!r} is not a valid email address."
        raise InvitationEmailInvalid(message, fields={"email": [message]}) from exc
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def invitation_create(*, email: str, role: Role | str, invited_by: User | None) -> Invitation:
    """Invite the address with the role and email the link.

    A pending invitation for the same address is replaced (its link dies),
    so there is never more than one live link per address.
    """
    email = _normalise_email(email)
    role = Role.parse(role) if isinstance(role, str) else role
    if User.objects.filter(email__iexact=email, is_active=True, oidc_sub__isnull=False).exists():
        raise AlreadyMember(f"{email} is already a member of this tenant.")
    token, hashed = _new_token()
    with transaction.atomic():
        now = timezone.now()
        Invitation.objects.filter(
            email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = Invitation.objects.create(
            email=email,
            role=role.value,
            token_hash=hashed,
            invited_by=invited_by,
            expires_at=now + _ttl(),
        )
        _send(invitation=invitation, token=token)
    return invitation


def invitation_create_first_admin(*, email: str) -> Invitation:
    """The provisioning step: invite the tenant's first Admin; safe to repeat."""
    email = _normalise_email(email)
    existing = Invitation.objects.filter(email__iexact=email, role=Role.ADMIN.value).first()
    if existing and existing.status in (Invitation.Status.PENDING, Invitation.Status.ACCEPTED):
        return existing
    return invitation_create(email=email, role=Role.ADMIN, invited_by=None)


def invitation_resend(*, invitation: Invitation) -> Invitation:
    """A fresh link (the old one stops working) and a new expiry, emailed again."""
    if invitation.status in (Invitation.Status.ACCEPTED, Invitation.Status.REVOKED):
        raise InvitationClosed(f"This invitation is {invitation.status}; create a new one.")
    token, hashed = _new_token()
    with transaction.atomic():
        invitation.token_hash = hashed
        invitation.expires_at = timezone.now() + _ttl()
        invitation.save(update_fields=["token_hash", "expires_at"])
        _send(invitation=invitation, token=token)
    return invitation


def invitation_revoke(*, invitation: Invitation) -> Invitation:
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationClosed("This invitation was already accepted; deactivate the user instead.")
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_get_pending(*, token: str) -> Invitation:
    """The pending invitation behind a link, or InvitationError saying why not."""
    invitation = Invitation.objects.filter(token_hash=token_hash(token or "")).first()
    if invitation is None:
        raise InvitationUnknown()
    if not invitation.is_pending:
        raise InvitationUnusable(_UNUSABLE_REASONS[invitation.status])
    return invitation


def invitation_accept(*, invitation: Invitation, user: User) -> Invitation:
    """Mark used; the conditional update makes a link single-use even under races."""
    now = timezone.now()
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(accepted_at=now, accepted_by=user)
    if not claimed:
        raise InvitationUnusable("This invitation has already been used or is no longer valid.")
    invitation.refresh_from_db()
    return invitation
