"""What the sync history refuses."""

from __future__ import annotations

from nexiom.errors import DomainError, Invalid, NotFound


class HistoryError(DomainError):
    """Base of the sync history's refusals."""


class ReplayInvalid(HistoryError, Invalid):
    code = "invalid_replay"


class EventNotFound(HistoryError, NotFound):
    code = "not_found"
    default_message = "No such history entry."
