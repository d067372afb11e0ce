"""Who may sign in through OIDC, and with which role.

Users are matched by the provider's `sub`, never by email alone. A first
login needs either a pending invitation for the *verified* email, or a role
for this tenant in the Zitadel project-roles claim. Role keys in that claim
are tenant-scoped, `<tenant slug>:<role>` (e.g. `acme:admin`), so a grant
for one tenant never opens another.

Role rules, by where the role came from (``User.role_source``):
- from the provider's roles claim: it follows the claim at every sign-in
  (and at every session refresh, which is a silent sign-in); when the claim
  no longer grants this tenant, the role is removed and the sign-in refused;
- from an invitation or an Admin in Nexiom: Nexiom is the source of truth,
  and a claim, stale or fresh, neither promotes nor demotes it;
- none recorded (no role, or older accounts): a claim that grants a role
  here gives it, and from then on the claim owns it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import Invitation, RoleSource, User
from accounts.roles import Role
from accounts.services.invitations import InvitationError, invitation_accept
from accounts.services.users import LastAdminError, user_role_set
from tenants.services import tenant_current

logger = logging.getLogger(__name__)


class LoginRefused(Exception):
    """The login is refused; `reason` is written for the person signing in."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def role_from_claim(claims: dict[str, Any], *, tenant_slug: str) -> Role | None:
    """The highest role the roles claim grants in this tenant, if any."""
    granted = claims.get(settings.OIDC_ROLES_CLAIM)
    # Zitadel sends {"<role key>": {"<org id>": "<org domain>"}}; a list of keys is accepted too.
    keys = list(granted) if isinstance(granted, (dict, list)) else []
    roles = []
    for key in keys:
        slug, _, role_name = str(key).partition(":")
        if slug.lower() != tenant_slug or not role_name:
            continue
        try:
            roles.append(Role.parse(role_name))
        except ValueError:
            continue
    return max(roles, key=lambda role: role.rank) if roles else None


def _unique_username(base: str) -> str:
    base = base[:140] or "user"
    candidate, counter = base, 1
    while User.objects.filter(username=candidate).exists():
        counter += 1
        candidate = f"{base}-{counter}"
    return candidate


def _invitation_for_link(token_hash: str, *, email: str, verified: bool) -> Invitation:
    invitation = Invitation.objects.filter(token_hash=token_hash).first()
    if invitation is None or not invitation.is_pending:
        raise LoginRefused("This invitation is no longer valid (used, withdrawn or expired).")
    if not verified:
        raise LoginRefused(
            "Your identity provider has not verified your email address, so the invitation "
            "cannot be matched to you. Verify it there, then open the invitation link again."
        )
    if invitation.email.casefold() != email.casefold():
        raise LoginRefused(
            "This invitation was sent to a different email address. Sign in with the "
            "account for the address that received it."
        )
    return invitation


def oidc_login_resolve(*, claims: dict[str, Any], invitation_token_hash: str | None) -> User:
    """Return the user to log in, creating them on an accepted first login.

    Raises LoginRefused when the login is not allowed: nothing changes, except
    that a role the roles claim no longer grants is removed (see the rules above).
    """
    sub = str(claims.get("sub") or "")
    if not sub:
        raise LoginRefused("Your identity provider did not say who you are (no subject).")
    email = str(claims.get("email") or "").strip()
    verified = claims.get("email_verified") is True and bool(email)
    tenant = tenant_current()
    claim_role = role_from_claim(claims, tenant_slug=tenant.slug)

    with transaction.atomic():
        user = User.objects.select_for_update().filter(oidc_sub=sub).first()
        invitation = None
        if invitation_token_hash:
            invitation = _invitation_for_link(invitation_token_hash, email=email, verified=verified)
        elif user is None and verified:
            invitation = Invitation.objects.filter(email__iexact=email).order_by("-created").first()
            if invitation is not None and not invitation.is_pending:
                invitation = None

        if user is None:
            if invitation is None and claim_role is None:
                raise LoginRefused(_no_access_reason(email=email, verified=verified))
            user = User(
                oidc_sub=sub,
                username=_unique_username(email or f"user-{sub[:40]}"),
                email=email if verified else "",
                first_name=str(claims.get("given_name") or "")[:150],
                last_name=str(claims.get("family_name") or "")[:150],
                is_staff=True,
            )
            user.set_unusable_password()
            user.save()
        elif not user.is_active:
            raise LoginRefused("Your account in this tenant is deactivated. Ask an Admin.")
        elif verified and user.email != email:
            user.email = email
            user.save(update_fields=["email"])

        withdrawn = None
        if invitation is not None:
            try:
                invitation_accept(invitation=invitation, user=user)
            except InvitationError as exc:
                raise LoginRefused(str(exc)) from exc
            _role_apply(user, Role.parse(invitation.role), source=RoleSource.INVITATION)
        elif claim_role is not None:
            if user.role is None or user.role_source not in NEXIOM_OWNED_SOURCES:
                _role_apply(user, claim_role, source=RoleSource.IDP_CLAIM)
        elif user.role_source == RoleSource.IDP_CLAIM:
            # Committed even though the sign-in is refused (raised below, outside).
            withdrawn = _claim_role_withdraw(user)
        if withdrawn is None and user.role is None and not user.is_superuser:
            raise LoginRefused("You have no role in this tenant. Ask an Admin to invite you.")
    if withdrawn is not None:
        logger.info("login of user %s refused: the roles claim no longer grants a role", user.pk)
        raise LoginRefused(withdrawn)
    return user


#: Roles Nexiom gave: a roles claim never overrides them.
NEXIOM_OWNED_SOURCES = frozenset({RoleSource.INVITATION, RoleSource.ADMIN})


def _role_apply(user: User, role: Role, *, source: RoleSource) -> None:
    if role == user.role and source == user.role_source:
        return
    try:
        user_role_set(user=user, role=role, source=source)
    except LastAdminError:
        logger.warning("login of user %s kept Admin: last active Admin", user.pk)


def _claim_role_withdraw(user: User) -> str:
    """Remove a claim-granted role the claim no longer grants; return the refusal's reason."""
    if user.role == Role.ADMIN and user.is_active:
        # Lock the Admin rows, as user_role_set does, so two withdrawals can't both pass.
        admins = set(
            User.objects.select_for_update()
            .filter(is_active=True, groups__name=Role.ADMIN.value)
            .values_list("pk", flat=True)
        )
        if admins == {user.pk}:
            # Refused all the same; the tenant keeps an Admin for when the grant returns.
            logger.warning("user %s lost the Admin claim but is the last active Admin", user.pk)
            return (
                "Your identity provider no longer grants you a role in this tenant. You are "
                "its last Admin, so the role is kept for when the grant is restored, but you "
                "cannot sign in until then."
            )
    user.groups.remove(*Group.objects.filter(name__in=[role.value for role in Role]))
    user.role_source = ""
    user.save(update_fields=["role_source"])
    return (
        "Your identity provider no longer grants you a role in this tenant, so your role "
        "here was removed. Ask your administrator to grant it again, or an Admin of this "
        "tenant to invite you."
    )


def _no_access_reason(*, email: str, verified: bool) -> str:
    if email and not verified:
        return (
            "Your identity provider has not verified your email address, so no invitation "
            "can be matched to it. Verify it there and sign in again."
        )
    return (
        f"There is no pending invitation for {email or 'your account'} in this tenant, and "
        "your identity provider grants you no role here. Ask an Admin to invite you."
    )
