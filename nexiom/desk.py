"""Helpers for the Desk (Django admin): refusals become error messages, never 403/500 pages.

Admin edits and actions call services; a service that refuses raises a
``DomainError``. ``desk_refusal`` reports it as an error message on the page,
``DeskServiceAdminMixin`` makes the add/change views show that message
instead of "changed successfully", and ``apply_to_each`` runs a service per
selected row of an action, reporting the refused rows and counting the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect

from nexiom.errors import DomainError


def desk_refusal(request: HttpRequest, error: DomainError, *, subject: str = "") -> None:
    """Show a refused change as an error message on the next page."""
    prefix = f"{subject}: " if subject else ""
    messages.error(request, f"{prefix}{error.message}")


def apply_to_each(
    request: HttpRequest,
    rows: Iterable[Any],
    service: Callable[[Any], Any],
    *,
    label: Callable[[Any], str] = str,
    done: str,
) -> int:
    """Apply ``service`` to every row; report each refusal, then how many succeeded.

    ``done`` is a format string with ``{count}``, e.g. "{count} user(s) deactivated.".
    """
    succeeded = 0
    for row in rows:
        try:
            service(row)
        except DomainError as error:
            desk_refusal(request, error, subject=label(row))
        else:
            succeeded += 1
    if succeeded:
        messages.success(request, done.format(count=succeeded))
    return succeeded


class DeskServiceAdminMixin:
    """For a ModelAdmin whose ``save_model`` calls a service that may refuse.

    ``save_model`` raises the ``DomainError``; this catches it around the
    whole add/change view, rolls nothing back that the service did not
    write, and sends the user back to the form's page with the reason, so
    "changed successfully" never stands next to a refusal.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            desk_refusal(request, error)
            return HttpResponseRedirect(request.get_full_path())
