"""OpenAPI description of how the API authenticates (found by drf-spectacular).

Imported from ``AccountsConfig.ready``: drf-spectacular finds extensions by
subclass registration, so the module only has to be imported once.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer nxm_...``: Swagger UI's Authorize button takes the token."""

    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "nxm_...",
            "description": (
                "A personal API token (`nxm_...`), created in the Desk or with "
                "`POST /api/tokens/` from a signed-in session. It acts as its user "
                "in its own tenant only."
            ),
        }
