"""What the pipeline refuses, each with a stable code and HTTP status."""

from __future__ import annotations

from nexiom.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unavailable


class PipelineError(DomainError):
    """Base of the pipeline's refusals."""


class HookUnknown(PipelineError, NotFound):
    code = "hook_unknown"
    default_message = "No ingest URL here."


class SenderRefused(PipelineError, Forbidden):
    """The message is not from the connection's system (org id, signature)."""

    code = "sender_refused"


class MessageTooLarge(PipelineError):
    code = "message_too_large"
    status = 413


class MediaTypeRefused(PipelineError):
    code = "unsupported_media_type"
    status = 415


class MessageInvalid(PipelineError, Invalid):
    code = "message_invalid"


class RouteInvalid(PipelineError, Invalid):
    code = "invalid_route"


class RouteConflict(PipelineError, Conflict):
    code = "route_conflict"


class StoreUnavailable(PipelineError, Unavailable):
    code = "store_unavailable"
    default_message = "The message could not be stored; send it again later."
