"""Request body parsing that a hostile client cannot turn into a 500.

DRF's stock ``JSONParser`` hands the body to ``json.load``: 5,000 nested
brackets raise ``RecursionError`` (a 500), ``1e999`` becomes infinity, and a
duplicated key silently keeps the last value (two components reading the
same body could disagree). ``BoundedJSONParser`` refuses all of these with a
400 in the API's one error body, and a body over ``NEXIOM_API_MAX_BODY_BYTES``
with a 413.

Django reads a JSON or form body into memory before any parser runs, and a
body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` raises ``RequestDataTooBig`` there,
which DRF does not render. ``BoundedContentNegotiation`` therefore refuses an
oversized body from its declared ``Content-Length`` while choosing the parser,
before a byte is read, so the 413 has our body shape too.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser, JSONParser, get_encoding

#: Deeper than any body our API accepts, far below Python's recursion limit.
MAX_JSON_DEPTH = 32
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

# A JSON string (with its escapes) or one bracket. Strings are matched whole so
# that brackets inside them do not count; everything else is skipped in C.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request body is too large."


def max_body_bytes() -> int:
    """The largest request body the API reads (bytes)."""
    return int(getattr(settings, "NEXIOM_API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than {max_body_bytes()} bytes.")


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays/objects in ``text`` nest deeper than ``limit``.

    A linear scan that stops at the first bracket past the limit, so it costs
    nothing on the deep bodies it exists to refuse.
    """
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        found = match.group()
        if found in "[{":
            depth += 1
            if depth > limit:
                return True
        elif found in "]}":
            depth -= 1
    return False


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key[:64]!r}")
        result[key] = value
    return result


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to infinity
        raise ValueError(f"number {text[:32]} is out of range")
    return value


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def json_loads_bounded(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for untrusted text; every refusal is a ``ValueError``."""
    if json_depth_exceeds(text, max_depth):
        raise ValueError(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_without_duplicate_keys,
            parse_float=_finite_float,
            parse_constant=_no_constants,
        )
    except RecursionError as exc:  # unreachable after the depth scan; belt and braces
        raise ValueError(f"nested deeper than {max_depth} levels") from exc


class BoundedJSONParser(JSONParser):
    """The API's JSON parser: bounded size and depth, strict numbers, unique keys."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        parser_context = parser_context or {}
        encoding = get_encoding(parser_context)
        limit = max_body_bytes()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise _too_large()
        try:
            text = raw.decode(encoding)
            return json_loads_bounded(text)
        except ValueError as exc:  # UnicodeDecodeError is one too
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None


class BoundedContentNegotiation(DefaultContentNegotiation):
    """Refuses a body larger than the API reads before anything reads it (413)."""

    def select_parser(self, request, parsers: list[BaseParser]) -> BaseParser | None:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django then reads no body either
        if declared > max_body_bytes():
            raise _too_large()
        return super().select_parser(request, parsers)
