"""Shared reads of users, invitations and tokens, scoped to who is asking.

``<entity>_get_for_user`` answers "not found" (404) both for what does not
exist and for what the asking user may not see, so a refusal never reveals
that a row exists. Views, admin pages and commands read through here.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.errors import AccountsError
from accounts.models import ApiToken, Invitation, User
from nexiom.errors import NotFound


class AccountNotFound(AccountsError, NotFound):
    code = "not_found"


def users_list() -> QuerySet[User]:
    """Every user of the current tenant, with their role groups."""
    return User.objects.prefetch_related("groups").order_by("username")


def user_get_for_user(*, actor: User, pk: object) -> User:
    """Members see every user of their tenant (the API's permission checks membership)."""
    user = users_list().filter(pk=_int_or_none(pk)).first()
    if user is None:
        raise AccountNotFound("No such user.")
    return user


def invitations_list(*, status: str | None = None) -> QuerySet[Invitation]:
    queryset = Invitation.objects.select_related("invited_by")
    return queryset.with_status(status) if status else queryset


def api_tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The tokens a user may see: their own, or everyone's with ``view_all_apitokens``."""
    queryset = ApiToken.objects.select_related("user")
    if user.has_perm("accounts.view_all_apitokens"):
        return queryset
    return queryset.filter(user=user)


def api_tokens_owned_by(*, user: User) -> QuerySet[ApiToken]:
    """Only the user's own tokens (the API manages yours alone)."""
    return ApiToken.objects.filter(user=user)


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
