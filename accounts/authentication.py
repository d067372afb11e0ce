"""`Authorization: Bearer <personal API token>` for DRF."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from accounts.services import TokenRejected, api_token_authenticate


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, value = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        value = value.strip()
        if not value or " " in value:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        try:
            token = api_token_authenticate(plaintext=value)
        except TokenRejected as exc:
            # DRF's own 401 keeps the WWW-Authenticate challenge.
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from exc
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'
