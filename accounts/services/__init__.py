"""Every write to users, roles, invitations and API tokens goes through here."""

from accounts.services.invitations import (
    InvitationError,
    invitation_create,
    invitation_create_first_admin,
    invitation_get_pending,
    invitation_resend,
    invitation_revoke,
)
from accounts.services.login import LoginRefused, oidc_login_resolve
from accounts.services.tokens import (
    TokenError,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
)
from accounts.services.users import (
    BreakGlassResult,
    LastAdminError,
    breakglass_superuser_ensure,
    user_deactivate,
    user_reactivate,
    user_role_set,
)

__all__ = [
    "BreakGlassResult",
    "InvitationError",
    "LastAdminError",
    "LoginRefused",
    "TokenError",
    "api_token_authenticate",
    "api_token_create",
    "api_token_revoke",
    "breakglass_superuser_ensure",
    "invitation_create",
    "invitation_create_first_admin",
    "invitation_get_pending",
    "invitation_resend",
    "invitation_revoke",
    "oidc_login_resolve",
    "user_deactivate",
    "user_reactivate",
    "user_role_set",
]
