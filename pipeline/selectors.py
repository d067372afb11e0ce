"""Shared reads of the pipeline."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from nexiom.errors import NotFound
from pipeline.errors import PipelineError
from pipeline.models import InboundMessage, Route


class RouteNotFound(PipelineError, NotFound):
    code = "not_found"
    default_message = "No such route."


def routes_list() -> QuerySet[Route]:
    return Route.objects.select_related("source", "target").order_by("name", "pk")


def route_get_for_user(*, user, pk: object) -> Route:
    try:
        key = int(str(pk))
    except ValueError:
        raise RouteNotFound() from None
    route = routes_list().filter(pk=key).first()
    if route is None:
        raise RouteNotFound()
    return route


def message_correlations(message_ids: Iterable[int | None]) -> dict[int, str]:
    """The correlation id of each message (one query, bodies not read)."""
    wanted = {pk for pk in message_ids if pk is not None}
    if not wanted:
        return {}
    return dict(InboundMessage.objects.filter(pk__in=wanted).values_list("pk", "correlation_id"))
