"""Management commands turn domain errors into ``CommandError`` with the same message."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.core.management.base import CommandError

from nexiom.errors import DomainError


@contextlib.contextmanager
def domain_errors_as_command_errors() -> Iterator[None]:
    """``with domain_errors_as_command_errors(): service(...)`` in a command's handle."""
    try:
        yield
    except DomainError as error:
        raise CommandError(error.message) from error
