"""The one base of every domain error: a stable code, an HTTP status, a safe message.

Each app names its failures in its own ``errors.py`` as subclasses of
``DomainError``; the edges translate them in one place each:

- the API: ``nexiom.api_errors.exception_handler`` renders
  ``{"error": {"code": ..., "message": ..., "fields": {...}}}`` with ``status``;
- the Desk: ``nexiom.desk.desk_refusal`` shows the message as an error;
- commands: ``nexiom.commands.domain_errors_as_command_errors`` raises a
  ``CommandError`` with the same message.

Nobody picks a status by matching an error's text: a refusal that needs a
different status is a different class (or passes another ``code``).
Messages are shown to users and written to logs: they name things, never
a secret's value.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A refusal or failure a user can understand and act on."""

    #: Stable, machine-readable, snake_case; clients branch on it.
    code: ClassVar[str] = "invalid"
    #: The HTTP status the API answers with.
    status: ClassVar[int] = 400
    default_message: ClassVar[str] = "The request was refused."

    def __init__(
        self,
        message: str | None = None,
        *,
        fields: dict[str, list[str]] | None = None,
        code: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.fields = fields or {}
        if code is not None:
            self.code = code  # a finer code within the same class and status
        super().__init__(self.message)

    def as_body(self) -> dict:
        """The API's error body for this error."""
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class Invalid(DomainError):
    code = "invalid"
    status = 400


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    default_message = "You may not do this."


class Conflict(DomainError):
    """The request is valid but the current state refuses it."""

    code = "conflict"
    status = 409


class Gone(DomainError):
    code = "gone"
    status = 410


class Unavailable(DomainError):
    code = "unavailable"
    status = 503
