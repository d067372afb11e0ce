"""Shared reads of the pipeline."""

from __future__ import annotations

from django.db.models import QuerySet

from nexiom.errors import NotFound
from pipeline.errors import PipelineError
from pipeline.models import Route


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
