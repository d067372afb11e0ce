"""Routes: which records go from which source connection to which target connection."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from connectors.models import Connection
from connectors.registry import connector_get
from pipeline.errors import RouteInvalid
from pipeline.models import Route

_MAPPING_KEYS = {"items", "tax_code", "tax_codes", "default_terms_id"}


def _item_id(value: Any) -> bool:
    if isinstance(value, dict):
        value = value.get("value")
    return isinstance(value, str | int) and not isinstance(value, bool) and str(value) != ""


def _check(*, source: Connection, target: Connection, object_type: str, mapping: dict) -> None:
    problems: dict[str, list[str]] = {}
    if source.pk == target.pk:
        problems["target"] = ["The target must be another connection than the source."]
    source_connector = connector_get(key=source.connector)
    if source_connector.parser is None or source_connector.mapper is None:
        problems["source"] = [f"{source_connector.name} does not send records Nexiom can read."]
    target_connector = connector_get(key=target.connector)
    if target_connector.outbound is None:
        problems["target"] = [f"{target_connector.name} cannot receive records yet."]
    if object_type not in Route.ObjectType.values:
        problems["object_type"] = [f"Choose one of {', '.join(Route.ObjectType.values)}."]
    if not isinstance(mapping, dict):
        problems["mapping"] = ["A JSON object."]
    else:
        unknown = set(mapping) - _MAPPING_KEYS
        if unknown:
            problems["mapping"] = [f"Unknown keys: {', '.join(sorted(unknown))}."]
        items = mapping.get("items", {})
        if not isinstance(items, dict) or not all(
            isinstance(k, str) and _item_id(v) for k, v in items.items()
        ):
            problems.setdefault("mapping", []).append(
                '"items" maps line kinds to target item ids, e.g. {"line_haul": "21"} or '
                '{"line_haul": {"value": "21", "name": "Linehaul"}}.'
            )
    if problems:
        raise RouteInvalid("The route is not valid.", fields=problems)


def route_create(
    *,
    name: str,
    source: Connection,
    target: Connection,
    object_type: str = Route.ObjectType.INVOICE,
    mapping: dict[str, Any] | None = None,
    enabled: bool = True,
    created_by=None,
) -> Route:
    mapping = mapping or {}
    name = (name or "").strip()
    if not name:
        raise RouteInvalid("Give the route a name.", fields={"name": ["Required."]})
    _check(source=source, target=target, object_type=object_type, mapping=mapping)
    try:
        with transaction.atomic():
            return Route.objects.create(
                name=name[:100],
                source=source,
                target=target,
                object_type=object_type,
                mapping=mapping,
                enabled=enabled,
                created_by=created_by,
            )
    except IntegrityError as exc:
        raise RouteInvalid(
            f"A route named {name!r} exists already.", fields={"name": ["Already used."]}
        ) from exc


def route_update(*, route: Route, **changes: Any) -> Route:
    """Change name, mapping or enabled (source and target stay; make a new route instead)."""
    for field in ("name", "mapping", "enabled"):
        if field in changes:
            setattr(route, field, changes[field])
    _check(
        source=route.source,
        target=route.target,
        object_type=route.object_type,
        mapping=route.mapping,
    )
    route.save(update_fields=["name", "mapping", "enabled"])
    return route


def route_delete(*, route: Route) -> None:
    """Delete a route and its deliveries; the sync history keeps what happened (disable the
    route instead to keep its deliveries replayable)."""
    with transaction.atomic():
        route.deliveries.all().delete()
        route.delete()
