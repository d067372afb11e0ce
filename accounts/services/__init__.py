"""Every write to users, roles, invitations and API tokens goes through here."""

from accounts.errors import (
    AccountsError,
    BreakGlassProtected,
    InvitationError,
    LastAdminError,
    TokenError,
    TokenRejected,
)
from accounts.services.invitations import (
    invitation_create,
    invitation_create_first_admin,
    invitation_get_pending,
    invitation_resend,
    invitation_revoke,
)
from accounts.services.login import LoginRefused, oidc_login_resolve
from accounts.services.onboarding import tenant_onboard
from accounts.services.tokens import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
)
from accounts.services.users import (
    BreakGlassResult,
    breakglass_superuser_ensure,
    user_deactivate,
    user_reactivate,
    user_role_set,
)

__all__ = [
    "AccountsError",
    "BreakGlassProtected",
    "BreakGlassResult",
    "InvitationError",
    "LastAdminError",
    "LoginRefused",
    "TokenError",
    "TokenRejected",
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
    "tenant_onboard",
    "user_deactivate",
    "user_reactivate",
    "user_role_set",
]
