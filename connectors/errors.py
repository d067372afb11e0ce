"""What connectors and connections fail with; every connector reports failures this way.

The base client (``connectors.sdk.client``) maps HTTP failures once:
429 → ``RateLimited``, an expired credential that a refresh cannot fix →
``NeedsReauth``, timeouts, connection errors and 5xx → ``Transient``, other
4xx → ``Permanent``. Messages name the provider and the call, never a token.
"""

from __future__ import annotations

from nexiom.errors import Conflict, DomainError, Forbidden, Invalid, NotFound


class ConnectorError(DomainError):
    """Base of everything the connectors layer raises."""


# --- Remote failures (the base client's map) -------------------------------------


class RemoteError(ConnectorError):
    """A call to the external system failed; ``retryable`` says whether to try again."""

    retryable = False


class RateLimited(RemoteError):
    code = "rate_limited"
    status = 429
    retryable = True

    def __init__(self, message: str | None = None, *, retry_after: float | None = None) -> None:
        super().__init__(message or "The provider asked us to slow down.")
        self.retry_after = retry_after


class NeedsReauth(RemoteError):
    """The provider refuses the credential and a refresh cannot fix it: a person must reconnect."""

    code = "needs_reauth"
    status = 409
    default_message = "The provider no longer accepts this connection's credentials; reconnect it."


class Transient(RemoteError):
    """Timeouts, connection errors, 5xx: try again later."""

    code = "transient"
    status = 503
    retryable = True
    default_message = "The provider could not be reached or failed; it will be tried again."


class Permanent(RemoteError):
    """The provider refused the request itself (4xx): retrying the same request won't help."""

    code = "permanent"
    status = 422

    def __init__(
        self, message: str | None = None, *, provider_code: str = "", detail: str = ""
    ) -> None:
        super().__init__(message or f"The provider refused the request ({provider_code}).")
        self.provider_code = provider_code
        self.detail = detail


# --- The engine's refusals ------------------------------------------------------------


class ConnectorUnknown(ConnectorError, NotFound):
    code = "connector_unknown"


class ConnectionNotFound(ConnectorError, NotFound):
    code = "not_found"
    default_message = "No such connection."


class ConnectionInvalid(ConnectorError, Invalid):
    code = "invalid_connection"


class ConnectionStateConflict(ConnectorError, Conflict):
    """The connection's state refuses this action (e.g. refreshing a disabled one)."""

    code = "connection_state"


class AuthorizationStateInvalid(ConnectorError, Invalid):
    """The OAuth ``state`` is forged, expired, already used or for another provider."""

    code = "oauth_state_invalid"
    default_message = (
        "This authorization link is not valid (expired, already used or altered). "
        "Start the connection again from the Desk."
    )


# --- The pipeline's connector-side refusals (inbound messages, records, payloads) -----------
#
# Inbound-message refusals are also ``ValueError``s: the SDK's standard suite expects a
# parser to refuse a bad fixture with one (``connectors.sdk.testing``).


class MessageMalformed(ConnectorError, Invalid, ValueError):
    """An inbound message is not what its sender's protocol says (not XML, wrong root, ...)."""

    code = "message_malformed"
    status = 400
    default_message = "The message is malformed."


class MessageHostile(ConnectorError, Invalid, ValueError):
    """An inbound message tries an XML attack (DTD, entities, absurd nesting): never parsed."""

    code = "message_hostile"
    status = 400
    default_message = "The message was refused: it contains constructs that are never accepted."


class MessageTooLarge(ConnectorError, Invalid, ValueError):
    code = "message_too_large"
    status = 413
    default_message = "The message is larger than accepted."


class SenderRefused(ConnectorError, Forbidden):
    """The sender is not the one the connection expects (wrong org id, bad signature)."""

    code = "sender_refused"
    default_message = "The sender of this message could not be verified."


class RecordInvalid(ConnectorError, Invalid):
    """One source record cannot become a canonical record; ``fields`` says which and why."""

    code = "record_invalid"
    status = 422
    default_message = "The record is missing fields or holds invalid values."


class PayloadInvalid(ConnectorError, Invalid):
    """The target's payload would be refused; ``fields`` names each element path and why."""

    code = "payload_invalid"
    status = 422
    default_message = "The payload for the target system is invalid."
