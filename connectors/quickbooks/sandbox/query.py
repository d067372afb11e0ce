"""The small part of the QuickBooks query language the platform uses.

    select * from Customer where DisplayName = 'Great Lakes Packaging & Supply Co.'
    select * from Invoice where DocNumber = 'INV-104233' maxresults 1
    select count(*) from Invoice

Supported: ``select *`` or ``select count(*)``, one entity (Customer, Invoice,
Item, TaxCode, Term; case-insensitive), ``where`` with ``Field = 'value'``
conditions joined by ``and`` (a field may be dotted, e.g. ``CustomerRef``
compares its ``value``; ``\\'`` escapes a quote, as in QuickBooks),
``startposition`` and ``maxresults`` (default 100, at most 1000). Not
supported: ``like``, ``in``, ``<``/``>``, ``orderby``, field lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ENTITIES = {name.lower(): name for name in ("Customer", "Invoice", "Item", "TaxCode", "Term")}
MAX_RESULTS = 1000
DEFAULT_RESULTS = 100

_QUERY = re.compile(
    r"""^\s*select\s+(?P<what>\*|count\(\s*\*\s*\))\s+from\s+(?P<entity>\w+)
        (?:\s+where\s+(?P<where>.+?))?
        (?:\s+startposition\s+(?P<start>\d+))?
        (?:\s+maxresults\s+(?P<max>\d+))?
        \s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_CONDITION = re.compile(
    r"\s*(?P<field>[A-Za-z][\w.]*)\s*=\s*'(?P<value>(?:[^'\\]|\\.)*)'\s*", re.DOTALL
)
_AND = re.compile(r"and\b", re.IGNORECASE)


class QueryError(ValueError):
    """The query cannot be parsed or names an entity the sandbox does not hold."""


@dataclass(slots=True)
class Query:
    entity: str
    count: bool = False
    conditions: list[tuple[str, str]] = field(default_factory=list)
    start: int = 1
    max_results: int = DEFAULT_RESULTS


def parse(text: str) -> Query:
    match = _QUERY.match(text or "")
    if match is None:
        raise QueryError(f"QueryParserError: Encountered an unsupported query: {text!r}")
    entity = ENTITIES.get(match["entity"].lower())
    if entity is None:
        raise QueryError(f"QueryValidationError: Entity {match['entity']!r} is not supported")
    query = Query(entity=entity, count=match["what"] != "*")
    where = match["where"]
    position = 0
    while where is not None and position < len(where):
        cond = _CONDITION.match(where, position)
        if cond is None:
            raise QueryError(f"QueryParserError: Encountered an unsupported condition: {where!r}")
        value = re.sub(r"\\(.)", r"\1", cond["value"])
        query.conditions.append((cond["field"], value))
        position = cond.end()
        if position < len(where):
            joined = _AND.match(where, position)
            if joined is None:
                raise QueryError(f"QueryParserError: expected 'and' in {where!r}")
            position = joined.end()
    if match["start"]:
        query.start = max(1, int(match["start"]))
    if match["max"]:
        query.max_results = min(MAX_RESULTS, int(match["max"]))
    return query


def _field(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if isinstance(value, dict) and "value" in value:
        return value["value"]  # a reference such as CustomerRef compares by its Id
    return value


def run(query: Query, table: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ``QueryResponse`` object for ``query`` over ``table``'s records."""
    matches = [
        record
        for record in table.values()
        if all(str(_field(record, name)) == value for name, value in query.conditions)
    ]
    if query.count:
        return {"totalCount": len(matches)}
    page = matches[query.start - 1 : query.start - 1 + query.max_results]
    if not page:
        return {}  # QuickBooks answers an empty QueryResponse when nothing matches
    return {query.entity: page, "startPosition": query.start, "maxResults": len(page)}
