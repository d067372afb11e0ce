"""What the accounts layer refuses, each with a stable code and HTTP status.

The API renders them through ``nexiom.api_errors``, the Desk through
``nexiom.desk``, commands through ``nexiom.commands``; none of them chooses
a status by reading the message.
"""

from __future__ import annotations

from nexiom.errors import Conflict, DomainError, Forbidden, Gone, Invalid, NotFound


class AccountsError(DomainError):
    """Base of the accounts layer's refusals."""


# --- Users and roles ---------------------------------------------------------


class LastAdminError(AccountsError, Conflict):
    """The change would leave the tenant without an active Admin."""

    code = "last_admin"


class BreakGlassProtected(AccountsError, Forbidden):
    """Break-glass superusers change only through ``manage.py breakglass_superuser``."""

    code = "breakglass_protected"
    default_message = (
        "Break-glass accounts cannot be changed from the tenant's Desk or API; a platform "
        "operator manages them with `manage.py breakglass_superuser`."
    )


class RoleInvalid(AccountsError, Invalid):
    code = "invalid_role"


# --- Invitations ---------------------------------------------------------------


class InvitationError(AccountsError):
    """Base of every invitation refusal (catch this to handle them all)."""


class InvitationEmailInvalid(InvitationError, Invalid):
    code = "invalid_email"


class AlreadyMember(InvitationError, Conflict):
    code = "already_member"


class InvitationClosed(InvitationError, Conflict):
    """Re-sending or revoking an invitation that was accepted or revoked."""

    code = "invitation_closed"


class InvitationUnknown(InvitationError, NotFound):
    """No invitation behind this link on this tenant's host."""

    code = "invitation_unknown"
    default_message = "This invitation link is not valid for this site."


class InvitationUnusable(InvitationError, Gone):
    """The link existed but can no longer be used (accepted, revoked or expired)."""

    code = "invitation_unusable"


# --- Personal API tokens --------------------------------------------------------


class TokenError(AccountsError, Invalid):
    """A token cannot be created with these values."""

    code = "invalid_token_request"


class TokenRejected(AccountsError):
    """A bearer value that does not authenticate; one message for every cause."""

    code = "authentication_failed"
    status = 401
    default_message = "Invalid or expired token."


class TokenMintingForbidden(AccountsError, Forbidden):
    code = "token_from_token"
    default_message = "Create tokens from a signed-in session, not with another token."
